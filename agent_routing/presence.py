"""Where each agent stands right now: on shift or not, logged in to the phone, paused and why.

The rule (documented for supervisors): an agent is a queue member while **on shift and logged
in**. With `[routing] auto_login_on_shift` (the default, so a new install answers calls at once)
an agent on shift counts as logged in unless they logged out during this shift. A log-in, log-out
or pause counts for the shift it was made in (or up to an hour before it starts, for people who
arrive early); older ones have lapsed, so yesterday's "on break" does not keep today's shift out
of the queues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shift_schedule.clock import aware
from shift_schedule.model import Absence, Agent, ShiftInstance
from shift_schedule.roster import RosterSnapshot

CARRY_OVER = timedelta(hours=1)
PAUSE_REASONS: Mapping[str, Mapping[str, str]] = {
    "break": {"th": "พัก", "en": "Break"},
    "training": {"th": "อบรม", "en": "Training"},
    "meeting": {"th": "ประชุม", "en": "Meeting"},
    "after_call_work": {"th": "บันทึกหลังรับสาย", "en": "After-call work"},
}


@dataclass(frozen=True)
class AgentState:
    """What the agent last said: None = never said (the shift's default applies)."""

    agent_id: str
    logged_in: bool | None = None
    presence_at: datetime | None = None
    pause_reason: str | None = None
    paused_at: datetime | None = None


@dataclass(frozen=True)
class Situation:
    agent: Agent
    instance: ShiftInstance | None  # the shift instance the agent works now
    absence: Absence | None  # rostered now but marked absent
    logged_in: bool
    pause_reason: str | None
    since: datetime | None  # when the current presence/pause began, if known

    @property
    def is_member(self) -> bool:
        """Belongs in the queues (paused members too: Asterisk holds the pause)."""
        return self.instance is not None and self.logged_in

    @property
    def status(self) -> str:
        if self.absence is not None:
            return "absent"
        if self.instance is None:
            return "off_shift"
        if not self.logged_in:
            return "logged_out"
        return "paused" if self.pause_reason else "available"


def situations(
    snapshot: RosterSnapshot, states: Mapping[str, AgentState], now: datetime, auto_login: bool,
) -> list[Situation]:
    working = {o.agent.id: o.instance for o in snapshot.on_shift(now)}
    absent = _absent_now(snapshot, now)
    return [
        _situation(agent, working.get(agent.id), absent.get(agent.id),
                   states.get(agent.id, AgentState(agent.id)), auto_login)
        for agent in snapshot.agents.values() if agent.active
    ]


def members(found: Iterable[Situation]) -> list[Situation]:
    return [s for s in found if s.is_member]


def _situation(
    agent: Agent, instance: ShiftInstance | None, absence: Absence | None, state: AgentState,
    auto_login: bool,
) -> Situation:
    if instance is None:
        return Situation(agent, None, absence, bool(state.logged_in), None, state.presence_at)
    fresh_from = instance.start - CARRY_OVER
    fresh_presence = state.presence_at is not None and aware(state.presence_at) >= fresh_from
    logged_in = bool(state.logged_in) if fresh_presence else auto_login
    fresh_pause = state.paused_at is not None and aware(state.paused_at) >= fresh_from
    reason = state.pause_reason if logged_in and fresh_pause else None
    since = state.paused_at if reason else (state.presence_at if fresh_presence else instance.start)
    return Situation(agent, instance, None, logged_in, reason, since)


def _absent_now(snapshot: RosterSnapshot, now: datetime) -> dict[str, Absence]:
    found: dict[str, Absence] = {}
    for instance in snapshot.current_instances(now):
        for a in snapshot.assigned(instance):
            absence = snapshot.absence_of(a.agent_id, a.shift_id, a.day)
            if absence is not None:
                found[a.agent_id] = absence
    return found
