"""Queue and agent KPIs from the call log and the agents' activity (definitions: reports/KPIS.md).

Queue figures are one GROUP BY over `calls` per breakdown (queue, language, shift); agent figures
add the logged-in and paused intervals of `agent_activity`, clipped to the period (and shift).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, SQLColumnExpression, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from agent_routing.skills import RoutingDefinition
from call_log.models import CallRow
from reports.activity import LOGGED_IN, PAUSED, AgentActivityRow
from reports.period import DateRange, as_utc
from reports.sql import LocalMinuteOfDay, count_where, mapped, shift_of, sum_where
from shift_schedule.model import Agent, ShiftDef
from shift_schedule.store import RosterStore
from storage import Database

Interval = tuple[datetime, datetime]


class KpiError(ValueError):
    """A filter naming something that does not exist; `details` lists what does."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class KpiFilter:
    period: DateRange
    shift: str | None = None
    language: str | None = None
    queue: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
            "shift": self.shift, "language": self.language, "queue": self.queue,
        }


@dataclass(frozen=True)
class QueueFigures:
    """Offered/answered/abandoned and the times around them for one group of calls."""

    key: str | None
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    callback_exits: int = 0
    no_agent: int = 0
    answered_within: int = 0
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    longest_wait: float = 0.0
    longest_abandon: float = 0.0
    talked: int = 0
    talk: float = 0.0
    hold: float = 0.0
    wrapup_per_call: float = 0.0

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_within, self.offered)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)

    @property
    def asa(self) -> float | None:
        return _ratio(self.wait_answered, self.answered)

    @property
    def avg_abandon_time(self) -> float | None:
        return _ratio(self.wait_abandoned, self.abandoned)

    @property
    def avg_talk(self) -> float | None:
        return _ratio(self.talk, self.talked)

    @property
    def aht(self) -> float | None:
        talk = self.avg_talk
        return None if talk is None else talk + self.wrapup_per_call

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "offered": self.offered, "answered": self.answered,
            "abandoned": self.abandoned, "callback_exits": self.callback_exits,
            "no_agent": self.no_agent, "answered_within_threshold": self.answered_within,
            "service_level": _round(self.service_level, 4),
            "abandon_rate": _round(self.abandon_rate, 4), "asa": _round(self.asa),
            "avg_abandon_time": _round(self.avg_abandon_time),
            "longest_wait": _round(self.longest_wait),
            "longest_abandon": _round(self.longest_abandon),
            "avg_talk": _round(self.avg_talk), "avg_hold": _round(_ratio(self.hold, self.talked)),
            "aht": _round(self.aht),
        }


@dataclass(frozen=True)
class AgentFigures:
    agent_id: str
    name: str
    answered: int
    talk: float
    hold: float
    logged_in: float
    pauses: Mapping[str, float]
    auto_wrapup: float  # Asterisk's wrap-up time after each of the agent's queue calls
    acw_pauses: float  # pauses whose reason is after-call work

    @property
    def paused(self) -> float:
        return sum(self.pauses.values())

    @property
    def wrapup(self) -> float:
        return self.auto_wrapup + self.acw_pauses

    @property
    def handle(self) -> float:
        return self.talk + self.wrapup

    @property
    def occupancy(self) -> float | None:
        """Share of the time the agent was ready or handling calls that went to handling them."""
        ratio = _ratio(self.handle, self.logged_in - self.paused + self.acw_pauses)
        return None if ratio is None else min(ratio, 1.0)

    def as_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id, "name": self.name, "answered": self.answered,
            "talk_time": _round(self.talk), "hold_time": _round(self.hold),
            "avg_talk": _round(_ratio(self.talk, self.answered)),
            "wrapup_time": _round(self.wrapup),
            "logged_in_time": _round(self.logged_in), "pause_time": _round(self.paused),
            "pause_by_reason": {k: _round(v) for k, v in sorted(self.pauses.items())},
            "occupancy": _round(self.occupancy, 4),
        }


@dataclass(frozen=True)
class KpiReport:
    filter: KpiFilter
    threshold: int
    total: QueueFigures
    by_queue: tuple[QueueFigures, ...]
    by_language: tuple[QueueFigures, ...]
    by_shift: tuple[QueueFigures, ...]
    by_agent: tuple[AgentFigures, ...]
    shifts: tuple[ShiftDef, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "filter": self.filter.as_json(),
            "service_level_seconds": self.threshold,
            "total": self.total.as_json(),
            "by_queue": [f.as_json() for f in self.by_queue],
            "by_language": [f.as_json() for f in self.by_language],
            "by_shift": [f.as_json() for f in self.by_shift],
            "by_agent": [a.as_json() for a in self.by_agent],
            "shifts": [s.as_json() for s in self.shifts],
        }


class ComputeKpis:
    """Queue KPIs per queue, language and shift, and agent KPIs, for one filter."""

    def __init__(
        self,
        db: Database,
        definition: RoutingDefinition,
        tz: ZoneInfo,
        *,
        threshold: int,
        wrapup_seconds: int,
        acw_reasons: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.clock = clock
        self.definition = definition
        self.tz = tz
        self.threshold = threshold
        self.wrapup_seconds = wrapup_seconds
        self.acw_reasons = frozenset(r.lower() for r in acw_reasons)

    async def execute(self, kpi_filter: KpiFilter) -> KpiReport:
        async with self.db.session() as session:
            roster = RosterStore(session)
            shifts, agents = await roster.shifts(), await roster.agents()
            self._check(kpi_filter, shifts)
            calls = _CallQuery(self, kpi_filter, shifts)
            total = await calls.figures(session, None)
            by_queue = await calls.figures(session, CallRow.queue)
            by_language = await calls.figures(session, calls.language)
            by_shift = await calls.figures(session, calls.shift) if shifts else ()
            by_agent = await self._agents(session, calls, kpi_filter, shifts, agents)
        return KpiReport(
            kpi_filter, self.threshold, total[0] if total else QueueFigures(None),
            tuple(by_queue), tuple(by_language), tuple(by_shift), tuple(by_agent), tuple(shifts),
        )

    async def shifts(self) -> list[ShiftDef]:
        async with self.db.session() as session:
            return await RosterStore(session).shifts()

    async def summary(self, kpi_filter: KpiFilter) -> tuple[QueueFigures, list[QueueFigures]]:
        """Only the queue figures, overall and per queue (the wallboard's "today")."""
        async with self.db.session() as session:
            shifts = await RosterStore(session).shifts()
            calls = _CallQuery(self, kpi_filter, shifts)
            total = await calls.figures(session, None)
            by_queue = await calls.figures(session, CallRow.queue)
        return (total[0] if total else QueueFigures(None)), by_queue

    def _check(self, kpi_filter: KpiFilter, shifts: Sequence[ShiftDef]) -> None:
        if kpi_filter.shift and kpi_filter.shift not in {s.id for s in shifts}:
            raise KpiError("unknown shift", shift=kpi_filter.shift,
                           known=[s.id for s in shifts])
        if kpi_filter.language and kpi_filter.language not in self.definition.languages:
            raise KpiError("unknown language", language=kpi_filter.language,
                           known=list(self.definition.languages))
        if kpi_filter.queue and kpi_filter.queue not in self.definition.queue_names:
            raise KpiError("unknown queue", queue=kpi_filter.queue,
                           known=list(self.definition.queue_names))

    async def _agents(
        self, session: AsyncSession, calls: _CallQuery, kpi_filter: KpiFilter,
        shifts: Sequence[ShiftDef], agents: Mapping[str, Agent],
    ) -> list[AgentFigures]:
        windows = _windows(kpi_filter, shifts, self.tz)
        talk = await calls.per_agent(session)
        activity = await _activity(session, windows, self.clock())
        ids = sorted(set(talk) | set(activity))
        return [
            self._agent_figures(a, agents.get(a), talk.get(a), activity.get(a, {}))
            for a in ids
        ]

    def _agent_figures(
        self, agent_id: str, agent: Agent | None, talk: tuple[int, int, float, float] | None,
        activity: Mapping[tuple[str, str], float],
    ) -> AgentFigures:
        answered, queued, talk_total, hold = talk or (0, 0, 0.0, 0.0)
        pauses = {reason or "-": s for (kind, reason), s in activity.items() if kind == PAUSED}
        acw = sum(s for r, s in pauses.items() if r.lower() in self.acw_reasons)
        return AgentFigures(
            agent_id=agent_id, name=agent.name if agent else agent_id, answered=answered,
            talk=talk_total, hold=hold, logged_in=activity.get((LOGGED_IN, ""), 0.0),
            pauses=pauses, auto_wrapup=float(queued * self.wrapup_seconds), acw_pauses=acw,
        )


class _CallQuery:
    """The WHERE clause and group keys of one KPI filter over `calls`."""

    def __init__(self, owner: ComputeKpis, kpi_filter: KpiFilter, shifts: Sequence[ShiftDef]):
        self.owner = owner
        start, end = kpi_filter.period.utc_bounds(owner.tz)
        queue_language = {q.name: q.language for q in owner.definition.queues}
        self.language: SQLColumnExpression[Any] = func.coalesce(
            CallRow.language, mapped(CallRow.queue, queue_language)
        )
        minute = LocalMinuteOfDay(CallRow.received_at, owner.tz, start)
        self.shift: SQLColumnExpression[Any] = shift_of(minute, shifts) if shifts else CallRow.queue
        self.where: list[ColumnElement[bool]] = [
            CallRow.received_at >= start, CallRow.received_at < end,
        ]
        if kpi_filter.shift:
            self.where.append(self.shift == kpi_filter.shift)
        if kpi_filter.language:
            self.where.append(self.language == kpi_filter.language)
        if kpi_filter.queue:
            self.where.append(CallRow.queue == kpi_filter.queue)

    async def figures(
        self, session: AsyncSession, key: SQLColumnExpression[Any] | None
    ) -> list[QueueFigures]:
        columns = _figure_columns(self.owner.threshold)
        query: Select[Any] = select(*columns).where(*self.where, *_offered())
        if key is not None:
            query = select(key.label("key"), *columns).where(*self.where, *_offered())
            query = query.group_by(key).order_by(key)
        rows = (await session.execute(query)).mappings().all()
        return [self._figures(row) for row in rows if row["offered"]]

    async def per_agent(self, session: AsyncSession) -> dict[str, tuple[int, int, float, float]]:
        """agent -> (calls answered, of which from a queue, talk seconds, hold seconds)."""
        answered = CallRow.answered_at.is_not(None)
        query = (
            select(
                CallRow.agent_id, func.count(),
                count_where(CallRow.queued_at.is_not(None)),
                func.coalesce(func.sum(CallRow.talk_seconds), 0.0),
                func.coalesce(func.sum(CallRow.hold_seconds), 0.0),
            )
            .where(*self.where, answered, CallRow.agent_id.is_not(None))
            .group_by(CallRow.agent_id)
        )
        rows = (await session.execute(query)).all()
        return {str(r[0]): (int(r[1]), int(r[2]), float(r[3] or 0), float(r[4] or 0)) for r in rows}

    def _figures(self, row: Mapping[str, Any]) -> QueueFigures:
        values: dict[str, Any] = {
            name: (int if name in _COUNTS else float)(row[name] or 0) for name in _FIGURE_NAMES
        }
        return QueueFigures(
            key=row.get("key"), wrapup_per_call=float(self.owner.wrapup_seconds), **values
        )


_COUNTS = frozenset({
    "offered", "answered", "abandoned", "callback_exits", "no_agent", "answered_within", "talked",
})
_FIGURE_NAMES = (
    "offered", "answered", "abandoned", "callback_exits", "no_agent", "answered_within",
    "wait_answered", "wait_abandoned", "longest_wait", "longest_abandon", "talked", "talk", "hold",
)


def _offered() -> list[ColumnElement[bool]]:
    """Calls that entered a queue and have left it (answered, abandoned, or sent elsewhere)."""
    return [CallRow.queued_at.is_not(None), CallRow.disposition != "in_queue"]


def _figure_columns(threshold: int) -> list[ColumnElement[Any]]:
    answered = CallRow.answered_at.is_not(None)
    abandoned = CallRow.disposition == "abandoned_queue"
    talked = answered & CallRow.talk_seconds.is_not(None) & CallRow.ended_at.is_not(None)
    wait = func.coalesce(CallRow.wait_seconds, 0.0)
    return [
        func.count().label("offered"),
        count_where(answered).label("answered"),
        count_where(abandoned).label("abandoned"),
        count_where(~answered & (CallRow.disposition == "callback_requested"))
        .label("callback_exits"),
        count_where(CallRow.disposition == "no_agent").label("no_agent"),
        count_where(answered & (wait <= threshold)).label("answered_within"),
        sum_where(answered, wait).label("wait_answered"),
        sum_where(abandoned, wait).label("wait_abandoned"),
        func.max(wait).label("longest_wait"),
        func.max(case((abandoned, wait), else_=0.0)).label("longest_abandon"),
        count_where(talked).label("talked"),
        sum_where(talked, func.coalesce(CallRow.talk_seconds, 0.0)).label("talk"),
        sum_where(talked, CallRow.hold_seconds).label("hold"),
    ]


def _windows(kpi_filter: KpiFilter, shifts: Sequence[ShiftDef], tz: ZoneInfo) -> list[Interval]:
    """The UTC intervals the agent figures count: the period, or its instances of one shift."""
    start, end = kpi_filter.period.utc_bounds(tz)
    if not kpi_filter.shift:
        return [(start, end)]
    shift = next(s for s in shifts if s.id == kpi_filter.shift)
    days = [kpi_filter.period.start + timedelta(days=d) for d in range(-1, kpi_filter.period.days)]
    instances = [shift.instance(day, tz) for day in days]
    return [
        (max(i.start, start), min(i.end, end)) for i in instances if i.start < end and i.end > start
    ]


async def _activity(
    session: AsyncSession, windows: Sequence[Interval], now: datetime
) -> dict[str, dict[tuple[str, str], float]]:
    """agent -> {(kind, reason): seconds} of activity inside the windows."""
    if not windows:
        return {}
    row = AgentActivityRow
    overlaps = [
        and_(row.started_at < end, or_(row.ended_at.is_(None), row.ended_at > start))
        for start, end in windows
    ]
    query = select(row.agent_id, row.kind, row.reason, row.started_at, row.ended_at).where(
        or_(*overlaps)
    )
    found: dict[str, dict[tuple[str, str], float]] = {}
    for agent_id, kind, reason, began, ended in (await session.execute(query)).all():
        seconds = _overlap(as_utc(began), as_utc(ended) if ended else now, windows)
        key = (kind, reason or "") if kind == PAUSED else (kind, "")
        totals = found.setdefault(agent_id, {})
        totals[key] = totals.get(key, 0.0) + seconds
    return found


def _overlap(began: datetime, ended: datetime, windows: Iterable[Interval]) -> float:
    total = 0.0
    for start, end in windows:
        total += max(0.0, (min(ended, end) - max(began, start)).total_seconds())
    return total


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
