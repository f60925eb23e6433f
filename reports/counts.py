"""Counting contacts in one period: a few GROUP BYs over the contact facts, read into Counters.

Each query groups by several columns at once (a small "cube"); the report sections then sum the
cube in Python. Three queries per period, whatever the number of sections.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from reports.facts import ReportContactRow as C
from reports.facts import ReportProblemRow as P

BANGKOK: Final = "TH-10"  # ISO 3166-2:TH code of Bangkok, the seed report's "กทม." column
NONE: Final = ""  # the key under which "not recorded" is counted


@dataclass(frozen=True)
class Cube:
    """Counts by a tuple of column values, summed along any of them."""

    columns: tuple[str, ...]
    counts: Counter[tuple[Any, ...]] = field(default_factory=Counter)

    def by(self, *names: str, where: dict[str, Any] | None = None) -> Counter[Any]:
        picks = [self.columns.index(n) for n in names]
        tests = [(self.columns.index(k), v) for k, v in (where or {}).items()]
        out: Counter[Any] = Counter()
        for key, n in self.counts.items():
            if all(_matches(key[i], v) for i, v in tests):
                picked = tuple(key[i] for i in picks)
                out[picked[0] if len(picked) == 1 else picked] += n
        return out

    def total(self, where: dict[str, Any] | None = None) -> int:
        return sum(self.by(self.columns[0], where=where).values())


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, (set, frozenset, tuple, list)):
        return value in wanted
    return bool(value == wanted)


@dataclass(frozen=True)
class PeriodCounts:
    contacts: Cube
    problems: Cube
    international: Cube


CONTACT_COLUMNS: Final = (
    "channel", "line", "category", "subtype", "target_group", "area", "referral_urgency",
    "referral_kind", "referral_destination", "mobile_team_result", "disposition", "test",
)
PROBLEM_COLUMNS: Final = ("problem_type", "area", "category")
INTERNATIONAL_COLUMNS: Final = (
    "country", "category", "test", "disposition", "callback_status", "outcome_source",
)


def _area() -> ColumnElement[str]:
    return case(
        (C.province.is_(None), NONE), (C.province == BANGKOK, "bangkok"), else_="provinces"
    )


_SOURCES: Final[dict[str, Any]] = {
    "area": _area,
    "test": lambda: C.flagged_test,
}


def _column(name: str) -> Any:
    maker = _SOURCES.get(name)
    return maker() if maker else getattr(C, name)


def contacts_in(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Contacts received in [start, end): callback calls count through their original contact."""
    return [C.received_at >= start, C.received_at < end, C.continues.is_(None)]


async def count_period(session: AsyncSession, start: datetime, end: datetime) -> PeriodCounts:
    where = contacts_in(start, end)
    return PeriodCounts(
        contacts=await count_cube(session, CONTACT_COLUMNS, where),
        problems=await count_cube(session, PROBLEM_COLUMNS, where, join_problems=True),
        international=await count_cube(
            session, INTERNATIONAL_COLUMNS, [*where, C.line == "international"]
        ),
    )


async def count_cube(
    session: AsyncSession, names: Sequence[str], where: Iterable[ColumnElement[bool]],
    *, join_problems: bool = False,
) -> Cube:
    """Contacts matching `where`, counted by the named columns (problem types: one per row)."""
    columns = [(P.problem_type if n == "problem_type" else _column(n)).label(n) for n in names]
    query = select(*columns, func.count().label("n")).select_from(C)
    if join_problems:
        query = query.join(P, P.stub_id == C.stub_id)
    query = query.where(*where).group_by(*columns)
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in (await session.execute(query)).all():
        *key, n = row
        counts[tuple(NONE if v is None else v for v in key)] += int(n)
    return Cube(tuple(names), counts)
