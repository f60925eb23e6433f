"""A report document as CSV: one line per figure, Thai and English labels side by side.

Written with a byte-order mark: the spreadsheet programs in Thai government offices then read the
Thai labels as UTF-8 instead of guessing a Windows code page.
"""

from __future__ import annotations

import csv
import io

from reports.document import ReportDocument
from reports.kpis import KpiReport

HEADER = (
    "section", "section_th", "section_en", "item", "item_th", "item_en", "level", "value",
    "previous", "trend",
)


def to_csv(document: ReportDocument) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for section in document.sections:
        for top in section.rows:
            for row in top.flat():
                trend = row.figure.trend
                writer.writerow((
                    section.key, section.title.th, section.title.en, row.key, row.label.th,
                    row.label.en, row.level, row.figure.current,
                    "" if row.figure.previous is None else row.figure.previous,
                    str(trend) if trend else "",
                ))
    return out.getvalue().encode("utf-8-sig")


KPI_COLUMNS = (
    "offered", "answered", "abandoned", "callback_exits", "no_agent",
    "answered_within_threshold", "service_level", "abandon_rate", "asa", "avg_abandon_time",
    "longest_wait", "longest_abandon", "avg_talk", "avg_hold", "aht",
)
AGENT_COLUMNS = (
    "name", "answered", "talk_time", "hold_time", "avg_talk", "wrapup_time", "logged_in_time",
    "pause_time", "occupancy",
)


def kpis_to_csv(report: KpiReport) -> bytes:
    """Queue figures (overall, per queue, language, shift), then one line per agent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("group", "key", *KPI_COLUMNS))
    groups = (
        ("total", [report.total]), ("queue", report.by_queue),
        ("language", report.by_language), ("shift", report.by_shift),
    )
    for group, figures in groups:
        for f in figures:
            body = f.as_json()
            writer.writerow((group, f.key or "", *(_cell(body[c]) for c in KPI_COLUMNS)))
    writer.writerow(())
    writer.writerow(("agent_id", *AGENT_COLUMNS, "pause_by_reason"))
    for agent in report.by_agent:
        body = agent.as_json()
        pauses = ";".join(f"{k}={v}" for k, v in body["pause_by_reason"].items())
        writer.writerow((agent.agent_id, *(_cell(body[c]) for c in AGENT_COLUMNS), pauses))
    return out.getvalue().encode("utf-8-sig")


def _cell(value: object) -> object:
    return "" if value is None else value
