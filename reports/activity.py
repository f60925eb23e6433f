"""Agents' logged-in and paused intervals, recorded from Asterisk's queue-member events.

The roster keeps only each agent's current state; KPIs need the history (logged-in time, pause
time by reason, occupancy). Asterisk is the authority on who is a member of which queue and who is
paused, so the intervals follow its events (QueueMemberAdded/Removed/Pause) and, after a
(re)connect, its QueueStatus answer — the same record QueueMetrics reads from queue_log.

An agent is *logged in* while a member of at least one queue, and *paused* while paused in every
queue they are a member of (then no call can reach them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import DateTime, Integer, String, Update, select, update
from sqlalchemy.orm import Mapped, mapped_column

from reports.wallboard.live import HeaderSource
from storage import Database
from storage.base import Base

log = structlog.get_logger(__name__)

LOGGED_IN = "logged_in"
PAUSED = "paused"
EVENT_NAMES = ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause")

Clock = Callable[[], datetime]


class AgentActivityRow(Base):
    __tablename__ = "agent_activity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )


@dataclass(frozen=True)
class Presence:
    """One agent's standing across their queues: queue -> pause reason ("" = paused without
    reason, None = not paused)."""

    queues: Mapping[str, str | None]

    @property
    def logged_in(self) -> bool:
        return bool(self.queues)

    @property
    def pause(self) -> str | None:
        reasons = list(self.queues.values())
        if reasons and all(r is not None for r in reasons):
            return next(r for r in reasons if r is not None)
        return None


@dataclass(frozen=True)
class MemberFact:
    agent_id: str
    queue: str
    pause: str | None
    login_at: datetime | None
    paused_at: datetime | None

    @classmethod
    def from_event(cls, event: HeaderSource) -> MemberFact | None:
        agent_id = event.get("MemberName") or event.get("Name")
        queue = event.get("Queue")
        if not agent_id or not queue:
            return None
        paused = event.get("Paused") == "1"
        return cls(
            agent_id=agent_id, queue=queue,
            pause=(event.get("PausedReason") or "") if paused else None,
            login_at=_epoch(event.get("LoginTime")), paused_at=_epoch(event.get("LastPause")),
        )


class ActivityStore:
    """The agent_activity table: open an interval, close the open ones."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, agent_id: str, kind: str, reason: str | None, at: datetime) -> None:
        """Start an interval; one still open (a controller restart can leave one) ends where
        this one starts, so totals stay right and there is never more than one open."""
        async with self.db.session() as s:
            await s.execute(_close(agent_id, kind, at))
            s.add(AgentActivityRow(agent_id=agent_id, kind=kind, reason=reason, started_at=at))

    async def close(self, agent_id: str, kind: str, at: datetime) -> None:
        async with self.db.session() as s:
            await s.execute(_close(agent_id, kind, at))

    async def open_presences(self) -> dict[str, tuple[bool, str | None]]:
        """agent -> (logged in, open pause reason) as the table last recorded."""
        async with self.db.session() as s:
            rows = (await s.execute(
                select(AgentActivityRow.agent_id, AgentActivityRow.kind, AgentActivityRow.reason)
                .where(AgentActivityRow.ended_at.is_(None))
            )).all()
        found: dict[str, tuple[bool, str | None]] = {}
        for agent_id, kind, reason in rows:
            logged, pause = found.get(agent_id, (False, None))
            found[agent_id] = (True, pause) if kind == LOGGED_IN else (logged, reason or "")
        return found


class RecordAgentActivity:
    """Keeps agent_activity in step with Asterisk's queue membership and pauses."""

    def __init__(self, store: ActivityStore, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock
        self._presence: dict[str, Presence] = {}

    async def on_event(self, event: HeaderSource) -> None:
        fact = MemberFact.from_event(event)
        if fact is None:
            return
        before = self._presence.get(fact.agent_id, Presence({}))
        queues = dict(before.queues)
        if event.name == "QueueMemberRemoved":
            queues.pop(fact.queue, None)
        else:
            queues[fact.queue] = fact.pause
        after = Presence(queues)
        self._presence[fact.agent_id] = after
        await self._record_change(fact.agent_id, before, after, _event_time(event) or self.clock())

    async def on_snapshot(self, members: Iterable[HeaderSource]) -> None:
        """After a (re)connect: make the table agree with QueueStatus, whatever was missed."""
        facts = [f for f in map(MemberFact.from_event, members) if f is not None]
        current: dict[str, dict[str, str | None]] = {}
        for fact in facts:
            current.setdefault(fact.agent_id, {})[fact.queue] = fact.pause
        recorded = await self.store.open_presences()
        now = self.clock()
        for agent_id in sorted(set(current) | set(recorded)):
            logged, pause = recorded.get(agent_id, (False, None))
            after = Presence(current.get(agent_id, {}))
            since = _earliest(f.login_at for f in facts if f.agent_id == agent_id)
            paused_since = _latest(f.paused_at for f in facts if f.agent_id == agent_id)
            await self._reconcile(agent_id, logged, pause, after, now, since, paused_since)
        self._presence = {a: Presence(q) for a, q in current.items()}

    async def _record_change(
        self, agent_id: str, before: Presence, after: Presence, at: datetime
    ) -> None:
        if before.pause is not None and before.pause != after.pause:
            await self.store.close(agent_id, PAUSED, at)
        if before.logged_in and not after.logged_in:
            await self.store.close(agent_id, LOGGED_IN, at)
        if after.logged_in and not before.logged_in:
            await self.store.open(agent_id, LOGGED_IN, None, at)
        if after.pause is not None and before.pause != after.pause:
            await self.store.open(agent_id, PAUSED, after.pause, at)
        if before != after:
            log.debug("agent activity", agent_id=agent_id, logged_in=after.logged_in,
                      pause=after.pause)

    async def _reconcile(
        self, agent_id: str, logged: bool, pause: str | None, after: Presence, now: datetime,
        since: datetime | None, paused_since: datetime | None,
    ) -> None:
        # What Asterisk says it has known for longer than the gap (LoginTime, LastPause) is
        # dated from Asterisk's clock; what ended while we were away ends now, the only
        # moment we can vouch for.
        if pause is not None and pause != after.pause:
            await self.store.close(agent_id, PAUSED, now)
        if logged and not after.logged_in:
            await self.store.close(agent_id, LOGGED_IN, now)
        if after.logged_in and not logged:
            await self.store.open(agent_id, LOGGED_IN, None, since or now)
        if after.pause is not None and pause != after.pause:
            await self.store.open(agent_id, PAUSED, after.pause, paused_since or now)


def _close(agent_id: str, kind: str, at: datetime) -> Update:
    return (
        update(AgentActivityRow)
        .where(AgentActivityRow.agent_id == agent_id, AgentActivityRow.kind == kind,
               AgentActivityRow.ended_at.is_(None))
        .values(ended_at=at)
    )


def _epoch(value: str | None) -> datetime | None:
    try:
        seconds = float(value) if value else 0.0
    except ValueError:
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def _event_time(event: HeaderSource) -> datetime | None:
    return _epoch(event.get("Timestamp"))


def _earliest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
