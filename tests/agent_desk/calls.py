"""AMI frames of one call as Asterisk 22 sends them, for driving the real call tracker.

Only the headers the tracker reads plus the usual identity headers; values follow Asterisk's own
formats (uniqueids "<epoch>.<n>", PJSIP channel names, MemberName = roster agent id).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from ami import Event

_seq = itertools.count(1)


def _uid() -> str:
    return f"{int(time.time())}.{next(_seq)}"


@dataclass
class AmiCall:
    caller: str = "0812345678"
    line: str = "domestic"
    lang: str = "th"
    priority: str = "normal"
    path: tuple[str, ...] = ("th", "counselling")
    queue: str = "counsel-th"
    dialed: str = "1300"
    linkedid: str = field(default_factory=_uid)

    @property
    def channel(self) -> str:
        return f"PJSIP/trunk-{self.linkedid.replace('.', '')[-8:]}"

    def _caller(self, **more: str) -> dict[str, str]:
        return {
            "Channel": self.channel, "CallerIDNum": self.caller, "CallerIDName": "<unknown>",
            "Exten": self.dialed, "Context": "line1300-in", "Uniqueid": self.linkedid,
            "Linkedid": self.linkedid, **more,
        }

    def arrives(self) -> list[Event]:
        variables = {
            "L1300_LINE": self.line, "L1300_DIALED": self.dialed, "L1300_LANG": self.lang,
            "L1300_PRIORITY": self.priority, "L1300_PATH": ",".join(self.path),
        }
        return [
            Event.build("Newchannel", self._caller(ChannelState="4", ChannelStateDesc="Ring")),
            *(Event.build("VarSet", self._caller(Variable=f"__{k}", Value=v))
              for k, v in variables.items()),
            Event.build("QueueCallerJoin", self._caller(Queue=self.queue, Position="1", Count="1")),
        ]

    def _agent(self, agent_id: str, **more: str) -> dict[str, str]:
        endpoint = f"agent-{agent_id[1:]}"
        return self._caller(
            Queue=self.queue, MemberName=agent_id, Interface=f"PJSIP/{endpoint}",
            DestChannel=f"PJSIP/{endpoint}-00000001", DestLinkedid=self.linkedid, **more,
        )

    def rings(self, agent_id: str) -> Event:
        return Event.build("AgentCalled", self._agent(agent_id))

    def answered_by(self, agent_id: str) -> list[Event]:
        return [
            Event.build("QueueCallerLeave", self._caller(Queue=self.queue, Position="1")),
            Event.build("AgentConnect", self._agent(agent_id, HoldTime="3", RingTime="2")),
        ]

    def ends(self, agent_id: str | None = None) -> list[Event]:
        done = [Event.build("AgentComplete", self._agent(
            agent_id, HoldTime="3", TalkTime="40", Reason="caller"))] if agent_id else []
        return [*done, Event.build("Hangup", self._caller(Cause="16"))]
