"""What a report says, independent of how it is shown: titled sections of labelled figures.

The monthly and provincial reports build a `ReportDocument`; the web page (JSON), the CSV and the
PDF all render the same document, so the three can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from reports.trend import Compared

Lang = Literal["th", "en"]
LANGS: tuple[Lang, ...] = ("th", "en")


@dataclass(frozen=True)
class Label:
    th: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.th if lang == "th" else self.en

    def as_json(self) -> dict[str, str]:
        return {"th": self.th, "en": self.en}


NOT_RECORDED = Label("ไม่ได้บันทึก", "Not recorded")


@dataclass(frozen=True)
class Row:
    key: str
    label: Label
    figure: Compared
    level: int = 0  # 1: a part of the row above it (subtype, district...)
    parts: tuple[Row, ...] = ()  # a split shown beside the figure (Bangkok / provinces)

    def flat(self) -> Iterator[Row]:
        yield self
        for part in self.parts:
            yield Row(f"{self.key}.{part.key}", part.label, part.figure, self.level + 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label.as_json(), **self.figure.as_json(),
            "level": self.level, "parts": [p.as_json() for p in self.parts],
        }


@dataclass(frozen=True)
class Section:
    key: str
    title: Label
    rows: tuple[Row, ...]
    # The section's headline figure, when it has one (e.g. "referrals: 411").
    total: Compared | None = None
    chart: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title.as_json(),
            "total": self.total.as_json() if self.total else None,
            "rows": [r.as_json() for r in self.rows], "chart": self.chart,
        }


@dataclass(frozen=True)
class ReportDocument:
    kind: str
    title: Label
    period: Label
    previous_period: Label | None
    sections: tuple[Section, ...]
    facts: dict[str, Any] = field(default_factory=dict)  # machine-readable period, filters

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def figure(self, path: str) -> Compared:
        """The figure at "section/row" or "section/row.part" (tests and the API use it)."""
        section_key, _, row_key = path.partition("/")
        for row in self.section(section_key).rows:
            for flat in row.flat():
                if flat.key == row_key:
                    return flat.figure
        raise KeyError(path)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "title": self.title.as_json(), "period": self.period.as_json(),
            "previous_period": self.previous_period.as_json() if self.previous_period else None,
            "sections": [s.as_json() for s in self.sections], **self.facts,
        }
