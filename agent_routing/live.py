"""What each agent's phone is doing now (ringing, on a call, wrapping up) and since when, from
the AMI event stream. The roster says who *should* take calls; this says who *is* busy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ami import Event
from shift_schedule.clock import Clock

# Asterisk device states (QueueMemberStatus "Status").
_RINGING = {6, 7}
_BUSY = {2, 3, 8}
EVENTS = ("QueueMemberStatus", "AgentComplete", "AgentConnect")


@dataclass(frozen=True)
class PhoneState:
    state: str  # "idle" | "ringing" | "on_call" | "wrap_up"
    since: datetime


class LiveBoard:
    def __init__(self, clock: Clock, wrapup_seconds: int) -> None:
        self._clock = clock
        self._wrapup = timedelta(seconds=wrapup_seconds)
        self._phones: dict[str, PhoneState] = {}

    def on_event(self, event: Event) -> None:
        agent_id = event.get("MemberName")
        if not agent_id:
            return
        self._set(agent_id, self._state_after(event, self.of(agent_id)))

    def of(self, agent_id: str) -> PhoneState | None:
        phone = self._phones.get(agent_id)
        if phone is not None and phone.state == "wrap_up" and self._wrapup_over(phone):
            return PhoneState("idle", phone.since + self._wrapup)
        return phone

    def _state_after(self, event: Event, current: PhoneState | None) -> str:
        if event.name == "AgentComplete":
            return "wrap_up"
        if event.name == "AgentConnect":
            return "on_call"
        status = int(event.get("Status") or 0)
        if status in _RINGING:
            return "ringing"
        if status in _BUSY or event.get("InCall") == "1":
            return "on_call"
        # The phone is idle again right after a call: the wrap-up time still runs.
        if current is not None and current.state == "wrap_up":
            return "wrap_up"
        return "idle"

    def _set(self, agent_id: str, state: str) -> None:
        current = self._phones.get(agent_id)
        if current is None or current.state != state:
            self._phones[agent_id] = PhoneState(state, self._clock.now())

    def _wrapup_over(self, phone: PhoneState) -> bool:
        return self._clock.now() >= phone.since + self._wrapup
