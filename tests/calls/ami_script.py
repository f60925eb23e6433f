"""AMI events of one call, written as a script: the same headers the recorded Asterisk 22 streams
carry (see fixtures/*.ami), for the situations that are slow or awkward to produce with SIPp
(callbacks, holds, transfers, a controller restarted between two events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from ami import Event


@dataclass
class CallScript:
    linkedid: str
    start: float
    caller: str = "0812345678"
    channel: str = "PJSIP/trunk-00000000"
    clock: float = field(init=False)
    _agents: dict[str, str] = field(default_factory=dict)
    # The call's variables as manager.conf channelvars puts them on each of its events.
    _chan_vars: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clock = self.start

    def carrying(self, **variables: str) -> CallScript:
        """From now on the call's channel has these variables (set by the dialplan or an
        Originate), and every event of it carries them as ChanVariable headers."""
        self._chan_vars.update(variables)
        return self

    def after(self, seconds: float) -> CallScript:
        self.clock += seconds
        return self

    def _event(self, name: str, **headers: str) -> Event:
        return self._build(name, headers)

    def _build(
        self, name: str, headers: dict[str, str], tail: dict[str, str] | None = None
    ) -> Event:
        base = {
            "Timestamp": f"{self.clock:.6f}",
            "Channel": self.channel,
            "CallerIDNum": self.caller,
            "Uniqueid": self.linkedid,
            "Linkedid": self.linkedid,
        }
        chan_vars = (("ChanVariable", f"{k}={v}") for k, v in self._chan_vars.items())
        items = (
            ("Event", name), *{**base, **headers}.items(), *(tail or {}).items(), *chan_vars
        )
        raw = "\r\n".join(f"{k}: {v}" for k, v in items)
        # Built from items, not a dict: like Asterisk's, a header name may appear twice.
        return Event(name, MappingProxyType(dict(items)), raw, 0.0, items)

    def new_channel(self, exten: str = "1300") -> Event:
        return self._event("Newchannel", Exten=exten, Context="from-trunk")

    def ivr(self, step: str, **payload: str) -> Event:
        # As Asterisk sends it: the channel's dialplan Priority, then the IVR's own headers.
        headers = {"Priority": "7", "UserEvent": "Line1300Ivr", "Step": step}
        return self._build("UserEvent", headers, payload)

    def var(self, name: str, value: str) -> Event:
        return self._event("VarSet", Variable=name, Value=value)

    def queue_join(self, queue: str) -> Event:
        return self._event("QueueCallerJoin", Queue=queue, Position="1", Count="1")

    def agent_channel(self, agent_id: str, endpoint: str) -> tuple[str, str]:
        uniqueid = f"{self.clock:.0f}.{len(self._agents) + 1}"
        self._agents[agent_id] = uniqueid
        return uniqueid, f"PJSIP/{endpoint}-0000000{len(self._agents)}"

    def agent_called(self, queue: str, agent_id: str, endpoint: str) -> list[Event]:
        uniqueid, channel = self.agent_channel(agent_id, endpoint)
        created = Event.build(
            "Newchannel",
            {
                "Timestamp": f"{self.clock:.6f}",
                "Channel": channel,
                "CallerIDNum": "agent",
                "Exten": "s",
                "Uniqueid": uniqueid,
                "Linkedid": self.linkedid,
            },
        )
        called = self._event(
            "AgentCalled",
            Queue=queue,
            MemberName=agent_id,
            Interface=f"PJSIP/{endpoint}",
            DestUniqueid=uniqueid,
        )
        return [created, called]

    def agent_no_answer(self, queue: str, agent_id: str, endpoint: str) -> list[Event]:
        uniqueid = self._agents[agent_id]
        return [
            self._event(
                "AgentRingNoAnswer",
                Queue=queue,
                MemberName=agent_id,
                Interface=f"PJSIP/{endpoint}",
                RingTime="15",
            ),
            self.agent_hangup(agent_id, endpoint, uniqueid),
        ]

    def agent_connect(self, queue: str, agent_id: str, endpoint: str, hold: int) -> list[Event]:
        return [
            self._event("QueueCallerLeave", Queue=queue, Position="1", Count="0"),
            self._event(
                "AgentConnect",
                Queue=queue,
                MemberName=agent_id,
                Interface=f"PJSIP/{endpoint}",
                HoldTime=str(hold),
                RingTime="1",
            ),
        ]

    def hold(self, on: bool) -> Event:
        return self._event("Hold" if on else "Unhold")

    def agent_complete(self, queue: str, agent_id: str, talk: int, reason: str) -> Event:
        return self._event(
            "AgentComplete",
            Queue=queue,
            MemberName=agent_id,
            TalkTime=str(talk),
            HoldTime="1",
            Reason=reason,
        )

    def blind_transfer(
        self, agent_id: str, endpoint: str, to: str, result: str = "Success"
    ) -> Event:
        return Event.build(
            "BlindTransfer",
            {
                "Timestamp": f"{self.clock:.6f}",
                "Result": result,
                "TransfererChannel": f"PJSIP/{endpoint}-00000001",
                "TransfererLinkedid": self.linkedid,
                "TransfereeLinkedid": self.linkedid,
                "Extension": to,
                "Context": "agents",
            },
        )

    def agent_hangup(self, agent_id: str, endpoint: str, uniqueid: str | None = None) -> Event:
        return Event.build(
            "Hangup",
            {
                "Timestamp": f"{self.clock:.6f}",
                "Channel": f"PJSIP/{endpoint}-00000001",
                "Uniqueid": uniqueid or self._agents[agent_id],
                "Linkedid": self.linkedid,
                "Cause": "16",
            },
        )

    def hangup(self) -> Event:
        return self._event("Hangup", Cause="16")
