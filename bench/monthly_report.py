"""Benchmark: the monthly report over a year of the line (100,000 calls at the 2019 rate).

    .venv/bin/python -m bench.monthly_report [--calls 100000] [--database-url URL] [--one-month]

Generates the calls and their case stubs (contract-shaped bodies with the taxonomy's outcomes,
spread over the year from 1 October 2018 like the Ministry's 2018–2019 figures), brings the
contact facts up to date once, then times the monthly report of August 2019 (beside July) (JSON
document, CSV and PDF), the KPIs of that month, and the provincial report. Prints figures;
exits 1 when the monthly report takes 2 s or more. `--one-month` puts every call in one month
(the worst case: 100,000 contacts in a single report). Default database: a throw-away SQLite
file; pass a PostgreSQL URL to measure production.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from agent_routing.skills import routing
from call_log.models import CallRow
from case_stubs.body import empty_body
from case_stubs.models import StubRow
from outcomes.taxonomy import Taxonomy, taxonomy
from reports.facts import RefreshContactFacts
from reports.kpis import ComputeKpis, KpiFilter
from reports.monthly import BuildMonthlyReport
from reports.period import DateRange, Month
from reports.provincial import BuildProvincialReport
from reports.render.csv_export import to_csv
from reports.render.pdf_export import to_pdf
from shift_schedule.bootstrap import SeedDefaultRoster
from shift_schedule.seed import load_seed
from storage import Database, upgrade_to_head

TZ = ZoneInfo("Asia/Bangkok")
START = datetime(2018, 10, 1, tzinfo=TZ)
CHUNK = 5000
LIMIT_SECONDS = 2.0
T = TypeVar("T")


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    p.add_argument("--one-month", action="store_true", help="every call in October 2018")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each report")
    p.add_argument("--seed", type=int, default=1300)
    return p.parse_args()


class Generator:
    """Calls and stubs that look like the line's: mostly domestic counselling and information,
    a few per cent international, referrals graded by urgency, Bangkok and provinces."""

    def __init__(self, tax: Taxonomy, rng: random.Random, days: int) -> None:
        self.tax = tax
        self.rng = rng
        self.days = days
        self.queues = routing().queue_names
        self.categories = [c.id for c in tax.categories]
        self.weights = [18, 4, 11, 27, 5, 2, 2, 2, 1]  # help, counselling, info..., as the seed
        self.provinces = list(tax.provinces.ids)

    def rows(self, n: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for i in range(n):
            yield self.one(i)

    def one(self, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        received = START + timedelta(seconds=rng.uniform(0, self.days * 86400))
        international = rng.random() < 0.02
        linkedid = f"{received.timestamp():.6f}.{i}"
        stub_id = str(uuid.uuid4())
        answered = rng.random() < 0.85
        wait = rng.expovariate(1 / 25)
        talk = rng.expovariate(1 / 240) if answered else None
        queue = "intl-en" if international else rng.choice(("counsel-th", "counsel-th",
                                                             "critical-th"))
        call: dict[str, Any] = {
            "linkedid": linkedid, "line": "international" if international else "domestic",
            "dialed": "+66991301300" if international else "1300", "caller_number": None,
            "caller_country": rng.choice(("TH", "MM", "KH", "DE")) if international else "TH",
            "language": "en" if international else "th", "ivr_path": [], "priority": "normal",
            "queue": queue, "received_at": received.astimezone(UTC),
            "queued_at": received.astimezone(UTC) + timedelta(seconds=20),
            "answered_at": received.astimezone(UTC) + timedelta(seconds=20 + wait)
            if answered else None,
            "ended_at": received.astimezone(UTC) + timedelta(seconds=20 + wait + (talk or 0)),
            "wait_seconds": wait, "talk_seconds": talk, "hold_seconds": 0.0,
            "agent_id": f"A{rng.randint(1, 60):03d}" if answered else None,
            "ringing_agents": [], "transfers": [],
            "disposition": "answered" if answered else "abandoned_queue",
            "stub_id": stub_id, "source": "ami", "updated_at": received.astimezone(UTC),
        }
        body = self.stub(stub_id, call, received, answered)
        stub = {
            "id": stub_id, "call_id": linkedid, "revision": 3, "body": body,
            "caller_number": None, "handled_by": [], "created_at": call["received_at"],
            "updated_at": call["ended_at"],
        }
        return call, stub

    def stub(self, stub_id: str, call: dict[str, Any], received: datetime, answered: bool
             ) -> dict[str, Any]:
        body = empty_body(stub_id)
        body.update({
            "revision": 3, "call_id": call["linkedid"], "line": call["line"],
            "dialed": call["dialed"], "caller": {"number": None, "country": call["caller_country"]},
            "language": call["language"], "queue": call["queue"],
            "received_at": received.isoformat(timespec="milliseconds"),
            "disposition": "answered" if answered else "abandoned",
            "outcome": self.outcome() if answered else None,
        })
        return body

    def outcome(self) -> dict[str, Any]:
        rng, tax = self.rng, self.tax
        category = rng.choices(self.categories, self.weights)[0]
        chosen = tax.categories.get(category)
        assert chosen is not None
        referral = None
        if category == "referral":
            kind = rng.choice(tax.destination_kinds.ids)
            places = tax.destinations(kind)
            place = rng.choice(places.ids) if places else None
            referral = {"urgency": rng.choices(tax.referral_urgency.ids, (1, 4, 95))[0],
                        "destination": {"kind": kind, "id": place, "country": None}}
        return {
            "category": category,
            "subtype": rng.choice(chosen.subtypes.ids) if chosen.subtypes else None,
            "problem_types": rng.sample(tax.problem_types.ids, rng.choice((0, 1, 1, 2))),
            "target_group": rng.choice(tax.target_groups.ids),
            "sex": rng.choice(tax.sexes.ids),
            "province": "TH-10" if rng.random() < 0.5 else rng.choice(self.provinces),
            "district": f"อำเภอ {rng.randint(1, 12)}",
            "referral": referral,
            "mobile_team_result": rng.choice(tax.mobile_team_results.ids)
            if category == "field_visit" else None,
            "notes": "", "taxonomy_version": tax.version,
        }


async def generate(db: Database, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    days = 31 if args.one_month else 365
    gen = Generator(taxonomy(), random.Random(args.seed), days)
    calls: list[dict[str, Any]] = []
    stubs: list[dict[str, Any]] = []
    for call, stub in gen.rows(args.calls):
        calls.append(call)
        stubs.append(stub)
        if len(calls) == CHUNK:
            await _flush(db, calls, stubs)
    await _flush(db, calls, stubs)
    return time.perf_counter() - started


async def _flush(db: Database, calls: list[dict[str, Any]], stubs: list[dict[str, Any]]) -> None:
    if calls:
        async with db.session() as s:
            await s.execute(insert(CallRow), calls)
            await s.execute(insert(StubRow), stubs)
    calls.clear()
    stubs.clear()


async def timed(runs: int, work: Callable[[], Awaitable[T]]) -> tuple[list[float], T]:
    times: list[float] = []
    result: T | None = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    assert result is not None
    return times, result


def line(name: str, times: list[float]) -> str:
    return (f"{name:<44} median {statistics.median(times):7.3f} s   "
            f"min {min(times):7.3f} s   max {max(times):7.3f} s")


async def main() -> int:
    args = _args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    upgrade_to_head(url)
    db = Database(url)
    await SeedDefaultRoster(db, load_seed()).execute()
    print(f"database: {url.split('@')[-1]}")
    generated = await generate(db, args)
    print(f"generated {args.calls:,} calls and stubs in {generated:.1f} s")
    refresh = RefreshContactFacts(db)
    started = time.perf_counter()
    projected = await refresh.execute()
    print(f"contact facts brought up to date once: {projected:,} stubs in "
          f"{time.perf_counter() - started:.1f} s (afterwards only changed stubs are read)")

    month = Month(2018, 10) if args.one_month else Month(2019, 8)
    monthly = BuildMonthlyReport(db, taxonomy(), TZ, refresh)
    times, document = await timed(args.runs, lambda: monthly.execute(month))
    total = document.figure("service/total")
    print(f"month {month.iso()} ({month.label_th()}): {total.current:,} contacts, "
          f"previous month {total.previous:,}")
    print(line("monthly report (document, all sections)", times))
    csv_times = [_clock(lambda: to_csv(document)) for _ in range(args.runs)]
    print(line("  as CSV", csv_times))
    now = datetime.now(UTC)
    pdf_times = [_clock(lambda: to_pdf(document, "th", now)) for _ in range(args.runs)]
    print(line("  as PDF (Thai)", pdf_times))
    kpis = ComputeKpis(db, routing(), TZ, threshold=20, wrapup_seconds=30)
    kpi_times, _ = await timed(args.runs, lambda: kpis.execute(KpiFilter(month.as_range())))
    print(line("queue and agent KPIs of the month", kpi_times))
    provincial = BuildProvincialReport(db, taxonomy(), TZ, refresh)
    year = DateRange(date(2018, 10, 1), date(2019, 9, 30))
    prov_times, _ = await timed(args.runs, lambda: provincial.execute("TH-54", year))
    print(line("provincial report (one province, a year)", prov_times))
    await db.close()
    worst = statistics.median(times) + statistics.median(pdf_times)
    print(f"monthly report with its PDF: {worst:.3f} s (target < {LIMIT_SECONDS} s)")
    return 0 if worst < LIMIT_SECONDS else 1


def _clock(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
