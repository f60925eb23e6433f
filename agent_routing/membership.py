"""Queue membership: the desired set (from who is working, via config/routing.toml), the actual
set (Asterisk's QueueStatus), and the smallest list of changes from one to the other.

Pure functions over small value objects; `agent_routing.asterisk_queues` does the talking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent_routing.presence import Situation
from agent_routing.skills import RoutingDefinition

Key = tuple[str, str]  # (queue, interface)


@dataclass(frozen=True)
class MemberSpec:
    """One agent in one queue, as it should be or as Asterisk has it."""

    queue: str
    interface: str
    member_name: str
    state_interface: str
    penalty: int
    paused: bool = False
    reason: str = ""

    @property
    def key(self) -> Key:
        return (self.queue, self.interface)

    def as_json(self) -> dict[str, object]:
        return {"queue": self.queue, "interface": self.interface, "agent_id": self.member_name,
                "penalty": self.penalty, "paused": self.paused, "reason": self.reason}


@dataclass(frozen=True)
class ActualMember:
    spec: MemberSpec
    dynamic: bool  # static members (queues.conf) cannot be removed over AMI
    in_call: bool
    status: int  # Asterisk device state: 1 not in use, 2 in use, 6 ringing …


@dataclass(frozen=True)
class MemberChange:
    """One AMI action; `kind` is add | remove | penalty | pause."""

    kind: str
    member: MemberSpec

    def action(self) -> dict[str, str]:
        m = self.member
        if self.kind == "add":
            return {"Action": "QueueAdd", "Queue": m.queue, "Interface": m.interface,
                    "Penalty": str(m.penalty), "Paused": _bool(m.paused),
                    "MemberName": m.member_name, "StateInterface": m.state_interface}
        if self.kind == "remove":
            return {"Action": "QueueRemove", "Queue": m.queue, "Interface": m.interface}
        if self.kind == "penalty":
            return {"Action": "QueuePenalty", "Queue": m.queue, "Interface": m.interface,
                    "Penalty": str(m.penalty)}
        return {"Action": "QueuePause", "Queue": m.queue, "Interface": m.interface,
                "Paused": _bool(m.paused), "Reason": m.reason}

    def as_json(self) -> dict[str, object]:
        return {"change": self.kind, **self.member.as_json()}


def desired_members(
    definition: RoutingDefinition, working: Iterable[Situation],
) -> dict[Key, MemberSpec]:
    """Every queue an agent belongs to, with the penalty the routing definition gives."""
    wanted: dict[Key, MemberSpec] = {}
    for s in working:
        agent = s.agent
        for queue in definition.queues:
            penalty = queue.penalty_for(agent.skills, agent.languages)
            if penalty is None:
                continue
            spec = MemberSpec(queue.name, agent.interface, agent.id, agent.interface, penalty,
                              s.pause_reason is not None, s.pause_reason or "")
            wanted[spec.key] = spec
    return wanted


def reconcile(
    desired: Mapping[Key, MemberSpec], actual: Iterable[ActualMember],
    managed_queues: Iterable[str],
) -> list[MemberChange]:
    """The changes that make `actual` equal `desired` in the managed queues (none if equal)."""
    managed = set(managed_queues)
    have = {m.spec.key: m for m in actual if m.spec.queue in managed}
    changes = [MemberChange("remove", m.spec) for k, m in have.items()
               if k not in desired and m.dynamic]
    for key, want in desired.items():
        changes.extend(_changes_for(want, have.get(key)))
    return changes


def _changes_for(want: MemberSpec, have: ActualMember | None) -> list[MemberChange]:
    if have is None:
        return [MemberChange("add", want), *_pause_reason(want)]
    same_names = (have.spec.member_name, have.spec.state_interface) == (
        want.member_name, want.state_interface)
    if not same_names:
        # Names are fixed at QueueAdd: a renamed member is re-added.
        return [MemberChange("remove", have.spec), MemberChange("add", want), *_pause_reason(want)]
    changes = []
    if have.spec.penalty != want.penalty:
        changes.append(MemberChange("penalty", want))
    have_pause = (have.spec.paused, have.spec.reason if have.spec.paused else "")
    if have_pause != (want.paused, want.reason):
        changes.append(MemberChange("pause", want))
    return changes


def _pause_reason(want: MemberSpec) -> list[MemberChange]:
    # QueueAdd takes no pause reason; a paused member gets it from a QueuePause right after.
    return [MemberChange("pause", want)] if want.paused else []


def _bool(value: bool) -> str:
    return "true" if value else "false"
