"""Asterisk's side of queue membership, over AMI: read it (QueueStatus), change it (QueueAdd,
QueueRemove, QueuePenalty, QueuePause)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from agent_routing.membership import ActualMember, MemberChange, MemberSpec
from ami import Action, AmiError, AmiLink, Event, Response

log = structlog.get_logger(__name__)
# Actions in flight at once: pipelining hides the round trip, the cap keeps Asterisk's manager
# thread from a burst of hundreds.
IN_FLIGHT = 32


class AmiSender(Protocol):
    async def send(
        self, action: Mapping[str, str], *, timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response: ...


@dataclass
class ApplyResult:
    sent: int = 0
    failed: list[tuple[MemberChange, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def member_from_event(event: Event) -> ActualMember:
    """A QueueMember event of a QueueStatus answer."""
    interface = event.get("Interface") or event.get("Location") or ""
    paused = event.get("Paused") == "1"
    spec = MemberSpec(
        queue=event.get("Queue") or "", interface=interface,
        member_name=event.get("MemberName") or event.get("Name") or interface,
        state_interface=event.get("StateInterface") or interface,
        penalty=int(event.get("Penalty") or 0), paused=paused,
        reason=(event.get("PausedReason") or "") if paused else "",
    )
    return ActualMember(
        spec, dynamic=(event.get("Membership") or "dynamic") != "static",
        in_call=event.get("InCall") == "1", status=int(event.get("Status") or 0),
    )


class AsteriskQueues:
    def __init__(self, link: AmiSender, timeout: float = 10.0) -> None:
        self._link = link
        self._timeout = timeout

    async def members(self, queues: Sequence[str] | None = None) -> list[ActualMember]:
        """Current members of every queue (or of the named ones)."""
        one = {"Queue": queues[0]} if queues is not None and len(queues) == 1 else {}
        answer = await self._status(one)
        wanted = set(queues) if queues is not None else None
        return [
            member_from_event(e) for e in answer.events
            if e.name == "QueueMember" and (wanted is None or e.get("Queue") in wanted)
        ]

    async def apply(self, changes: Iterable[MemberChange]) -> ApplyResult:
        """Send the changes: one member's in order, different members' side by side."""
        result = ApplyResult()
        gate = asyncio.Semaphore(IN_FLIGHT)
        await asyncio.gather(
            *(self._apply_member(seq, gate, result) for seq in _by_member(changes)))
        return result

    async def _status(self, extra: Mapping[str, str]) -> Response:
        answer = await self._link.send({"Action": "QueueStatus", **extra}, timeout=self._timeout)
        if not answer.ok:
            raise AmiError(f"QueueStatus refused: {answer.message}")
        return answer

    async def _apply_member(
        self, changes: list[MemberChange], gate: asyncio.Semaphore, result: ApplyResult,
    ) -> None:
        async with gate:
            for change in changes:
                error = await self._send(change)
                result.sent += 1
                if error is not None:
                    result.failed.append((change, error))
                    log.warning("queues.change_failed", change=change.kind,
                                queue=change.member.queue, agent_id=change.member.member_name,
                                error=error)
                    return

    async def _send(self, change: MemberChange) -> str | None:
        try:
            answer = await self._link.send(change.action(), timeout=self._timeout, idempotent=True)
        except AmiError as exc:
            return str(exc)
        return None if answer.ok else answer.message or answer.status


def _by_member(changes: Iterable[MemberChange]) -> list[list[MemberChange]]:
    grouped: dict[tuple[str, str], list[MemberChange]] = {}
    for change in changes:
        grouped.setdefault(change.member.key, []).append(change)
    return list(grouped.values())


class AmiOriginator:
    """Places a call over AMI; the answer says only whether Asterisk queued it (Async)."""

    def __init__(self, link: AmiLink, timeout: float = 10.0) -> None:
        self._link = link
        self._timeout = timeout

    async def originate(self, action_id: str, headers: Mapping[str, str | Sequence[str]]) -> bool:
        action = Action("Originate", dict(headers), action_id=action_id, idempotent=False)
        answer = await self._link.send(action, timeout=self._timeout)
        if not answer.ok:
            log.warning("callback.originate_refused", action_id=action_id, message=answer.message)
        return answer.ok
