"""SQL helpers shared by the reports, portable between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, SQLColumnExpression, case, func, null
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from shift_schedule.model import ShiftDef

MINUTES_PER_DAY = 24 * 60


class LocalMinuteOfDay(FunctionElement[int]):
    """Minutes after local midnight of a UTC timestamp column, in the centre's time zone.

    PostgreSQL converts with its own zone database. SQLite has none, so it adds the zone's
    offset at the start of the period: exact for zones without daylight saving (Thailand has
    none); elsewhere a period spanning a change would be an hour off for part of it.
    """

    type = Integer()
    inherit_cache = True
    name = "local_minute_of_day"

    def __init__(self, column: SQLColumnExpression[Any], tz: ZoneInfo, at: datetime) -> None:
        self.tz = tz
        offset = tz.utcoffset(at.replace(tzinfo=None))
        self.offset_minutes = int(offset.total_seconds() // 60) if offset else 0
        super().__init__(column)


@compiles(LocalMinuteOfDay, "postgresql")
def _pg_minute(element: LocalMinuteOfDay, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    local = f"(({column}) AT TIME ZONE '{element.tz.key}')"
    return f"CAST(EXTRACT(HOUR FROM {local}) * 60 + EXTRACT(MINUTE FROM {local}) AS INTEGER)"


@compiles(LocalMinuteOfDay)
def _sqlite_minute(element: LocalMinuteOfDay, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    minutes = (
        f"CAST(strftime('%H', {column}) AS INTEGER) * 60 "
        f"+ CAST(strftime('%M', {column}) AS INTEGER)"
    )
    day = MINUTES_PER_DAY
    return f"((({minutes}) + {element.offset_minutes}) % {day} + {day}) % {day}"


def shift_of(
    minute: SQLColumnExpression[int], shifts: Sequence[ShiftDef]
) -> ColumnElement[str | None]:
    """The id of the shift whose clock window holds `minute` (night shifts wrap midnight)."""
    whens = []
    for shift in shifts:
        end = shift.end_minute % MINUTES_PER_DAY or MINUTES_PER_DAY
        if shift.crosses_midnight:
            whens.append(((minute >= shift.start_minute) | (minute < end), shift.id))
        else:
            whens.append(((minute >= shift.start_minute) & (minute < end), shift.id))
    return case(*whens, else_=None)


def mapped(column: SQLColumnExpression[Any], mapping: Mapping[str, str]) -> ColumnElement[Any]:
    """`column` translated through `mapping` in SQL (e.g. queue name -> its language)."""
    return case(mapping, value=column, else_=None) if mapping else null()


def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def sum_where(
    condition: ColumnElement[bool], value: SQLColumnExpression[Any]
) -> ColumnElement[float]:
    return func.sum(case((condition, value), else_=0))
