"""AMI events the call tracker cares about, as small value objects ("facts").

`parse_fact(event)` turns one `ami.Event` into one fact, or None for events that say nothing
about a call's record. Every fact carries the linkedid it belongs to and the moment it happened:
Asterisk's own `Timestamp` header (manager.conf timestampevents=yes) when present, so that a
replayed recording gives the same record as the live stream did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from ami.filters import by_name
from ivr.events import CallbackResult, IvrStep

Clock = Callable[[], datetime]

# Names the tracker subscribes to; everything else is never delivered to it. The IVR's call
# variables come with them (manager.conf channelvars), not as VarSet events: Asterisk does not
# produce dialplan steps and variable changes for AMI at all (settings [asterisk]
# ami_disabled_events), they were ~85 % of a call's events. VarSet and Newexten are still read
# from recorded streams (and from an Asterisk that produces them).
EVENT_NAMES: Final = (
    "Newchannel",
    "Hangup",
    "UserEvent",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "AgentDump",
    "Hold",
    "Unhold",
    "BlindTransfer",
    "AttendedTransfer",
    "QueueMemberAdded",
)

# Channel variables the IVR sets (inherited with "__") that the record picks up.
TRACKED_VARIABLES: Final = frozenset(
    {
        "L1300_LINE",
        "L1300_DIALED",
        "L1300_LANG",
        "L1300_PRIORITY",
        "L1300_PATH",
        "L1300_CALLBACK_ID",
        "L1300_CALLBACK_NUMBER",
        "L1300_RELATED_LINKEDID",
    }
)

# What Asterisk should send the controller (manager.conf eventfilter).
AMI_FILTERS: Final = by_name(*EVENT_NAMES)



class _Event(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def items(self) -> tuple[tuple[str, str], ...]: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...


def is_internal(channel: str) -> bool:
    """Helper channels Asterisk makes for itself, not calls: the queue's periodic-announcement
    hook (Local/hook@__func_periodic_hook_context__) has a linkedid of its own."""
    return "__func_periodic_hook_context__" in channel


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    linkedid: str
    uniqueid: str
    channel: str
    caller_number: str | None
    exten: str | None
    at: datetime

    @property
    def starts_call(self) -> bool:
        """The first channel of a call has the call's own id as its uniqueid."""
        return self.uniqueid == self.linkedid

    @property
    def internal(self) -> bool:
        return is_internal(self.channel)


@dataclass(frozen=True, slots=True)
class ChannelHungUp:
    linkedid: str
    uniqueid: str
    channel: str
    cause: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class VariableSet:
    linkedid: str
    uniqueid: str
    variable: str
    value: str
    at: datetime


@dataclass(frozen=True, slots=True)
class VoicemailStarted:
    linkedid: str
    uniqueid: str
    at: datetime


@dataclass(frozen=True, slots=True)
class QueueJoined:
    linkedid: str
    uniqueid: str
    queue: str
    position: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class QueueLeft:
    linkedid: str
    uniqueid: str
    queue: str
    at: datetime


@dataclass(frozen=True, slots=True)
class QueueAbandoned:
    linkedid: str
    uniqueid: str
    queue: str
    hold_seconds: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentRang:
    linkedid: str
    agent_id: str
    interface: str
    queue: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentStoppedRinging:
    """The agent did not answer in time (AgentRingNoAnswer) or refused the call (AgentDump)."""

    linkedid: str
    agent_id: str
    queue: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    linkedid: str
    agent_id: str
    interface: str
    queue: str
    hold_seconds: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentFinished:
    linkedid: str
    agent_id: str
    queue: str
    talk_seconds: int | None
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class HoldChanged:
    linkedid: str
    uniqueid: str
    on_hold: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Transferred:
    linkedid: str
    kind: str  # "blind" | "attended"
    by_channel: str | None
    to: str | None
    result: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class MemberSeen:
    """A queue member's interface and agent id (to name the agent of an originated callback)."""

    interface: str
    agent_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IvrReported:
    step: IvrStep

    @property
    def linkedid(self) -> str:
        return self.step.linkedid

    @property
    def at(self) -> datetime:
        return self.step.at


@dataclass(frozen=True, slots=True)
class CallbackReported:
    result: CallbackResult

    @property
    def linkedid(self) -> str:
        return self.result.linkedid

    @property
    def at(self) -> datetime:
        return self.result.at


Fact = (
    ChannelCreated
    | ChannelHungUp
    | VariableSet
    | VoicemailStarted
    | QueueJoined
    | QueueLeft
    | QueueAbandoned
    | AgentRang
    | AgentStoppedRinging
    | AgentAnswered
    | AgentFinished
    | HoldChanged
    | Transferred
    | IvrReported
    | CallbackReported
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_fact(event: _Event, clock: Clock = _utcnow) -> Fact | MemberSeen | None:
    """The fact one AMI event states, or None."""
    parser = _PARSERS.get(event.name.lower())
    if parser is None or is_internal(event.get("Channel") or ""):
        return None
    return parser(event, clock)


def channel_variables(event: _Event) -> tuple[tuple[str, str], ...]:
    """The tracked call variables on an event of the call's first channel (manager.conf
    channelvars: "ChanVariable: L1300_LANG=km"). Other channels of the call carry inherited
    copies taken when they were created, which may be older."""
    linkedid, uniqueid = _ids(event)
    if not linkedid or uniqueid != linkedid:
        return ()
    found = []
    for key, value in event.items:
        if key == "ChanVariable":
            name, _, text = value.partition("=")
            if name in TRACKED_VARIABLES:
                found.append((name, text))
    return tuple(found)


def event_time(event: _Event, clock: Clock) -> datetime:
    stamp = event.get("Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(float(stamp), UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return clock()


def _ids(event: _Event) -> tuple[str, str]:
    return event.get("Linkedid") or "", event.get("Uniqueid") or ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _known(value: str | None) -> str | None:
    """Asterisk writes "<unknown>" for an absent caller id or extension."""
    value = (value or "").strip()
    return None if not value or value.lower() in ("<unknown>", "unknown") else value


def _new_channel(e: _Event, clock: Clock) -> ChannelCreated | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid:
        return None
    return ChannelCreated(
        linkedid,
        uniqueid,
        e.get("Channel") or "",
        _known(e.get("CallerIDNum")),
        _known(e.get("Exten")),
        event_time(e, clock),
    )


def _hangup(e: _Event, clock: Clock) -> ChannelHungUp | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid:
        return None
    return ChannelHungUp(
        linkedid, uniqueid, e.get("Channel") or "", e.get("Cause"), event_time(e, clock)
    )


def _var_set(e: _Event, clock: Clock) -> VariableSet | None:
    linkedid, uniqueid = _ids(e)
    name = (e.get("Variable") or "").lstrip("_").upper()
    if not linkedid or name not in TRACKED_VARIABLES:
        return None
    return VariableSet(linkedid, uniqueid, name, e.get("Value") or "", event_time(e, clock))


def _new_exten(e: _Event, clock: Clock) -> VoicemailStarted | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid or (e.get("Application") or "").lower() != "voicemail":
        return None
    return VoicemailStarted(linkedid, uniqueid, event_time(e, clock))


def _user_event(e: _Event, clock: Clock) -> IvrReported | CallbackReported | None:
    step = IvrStep.from_event(e, clock)
    if step is not None:
        return IvrReported(step)
    result = CallbackResult.from_event(e, clock)
    if result is not None and result.linkedid:
        return CallbackReported(result)
    return None


def _queue_join(e: _Event, clock: Clock) -> QueueJoined | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid:
        return None
    return QueueJoined(
        linkedid, uniqueid, e.get("Queue") or "", _int(e.get("Position")), event_time(e, clock)
    )


def _queue_leave(e: _Event, clock: Clock) -> QueueLeft | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid:
        return None
    return QueueLeft(linkedid, uniqueid, e.get("Queue") or "", event_time(e, clock))


def _queue_abandon(e: _Event, clock: Clock) -> QueueAbandoned | None:
    linkedid, uniqueid = _ids(e)
    if not linkedid:
        return None
    return QueueAbandoned(
        linkedid, uniqueid, e.get("Queue") or "", _int(e.get("HoldTime")), event_time(e, clock)
    )


def _agent(e: _Event) -> tuple[str, str, str]:
    # Queue events carry the caller's snapshot (Linkedid) and the agent's (DestChannel...);
    # MemberName is the roster's agent id (see the queue-member contract).
    return e.get("Linkedid") or "", e.get("MemberName") or "", e.get("Queue") or ""


def _agent_called(e: _Event, clock: Clock) -> AgentRang | None:
    linkedid, agent_id, queue = _agent(e)
    if not linkedid or not agent_id:
        return None
    return AgentRang(linkedid, agent_id, e.get("Interface") or "", queue, event_time(e, clock))


def _agent_not_answered(e: _Event, clock: Clock) -> AgentStoppedRinging | None:
    linkedid, agent_id, queue = _agent(e)
    if not linkedid or not agent_id:
        return None
    return AgentStoppedRinging(linkedid, agent_id, queue, event_time(e, clock))


def _agent_connect(e: _Event, clock: Clock) -> AgentAnswered | None:
    linkedid, agent_id, queue = _agent(e)
    if not linkedid or not agent_id:
        return None
    return AgentAnswered(
        linkedid,
        agent_id,
        e.get("Interface") or "",
        queue,
        _int(e.get("HoldTime")),
        event_time(e, clock),
    )


def _agent_complete(e: _Event, clock: Clock) -> AgentFinished | None:
    linkedid, agent_id, queue = _agent(e)
    if not linkedid or not agent_id:
        return None
    return AgentFinished(
        linkedid, agent_id, queue, _int(e.get("TalkTime")), e.get("Reason"), event_time(e, clock)
    )


def _hold(on_hold: bool) -> Callable[[_Event, Clock], HoldChanged | None]:
    def parse(e: _Event, clock: Clock) -> HoldChanged | None:
        linkedid, uniqueid = _ids(e)
        if not linkedid:
            return None
        return HoldChanged(linkedid, uniqueid, on_hold, event_time(e, clock))

    return parse


def _blind_transfer(e: _Event, clock: Clock) -> Transferred | None:
    linkedid = e.get("TransfererLinkedid") or e.get("TransfereeLinkedid") or ""
    if not linkedid:
        return None
    return Transferred(
        linkedid,
        "blind",
        e.get("TransfererChannel"),
        e.get("Extension"),
        e.get("Result"),
        event_time(e, clock),
    )


def _attended_transfer(e: _Event, clock: Clock) -> Transferred | None:
    linkedid = e.get("OrigTransfererLinkedid") or e.get("TransfereeLinkedid") or ""
    if not linkedid:
        return None
    to = e.get("SecondTransfererExten") or e.get("TransferTargetChannel") or e.get("DestApp")
    return Transferred(
        linkedid,
        "attended",
        e.get("OrigTransfererChannel"),
        to,
        e.get("Result"),
        event_time(e, clock),
    )


def _member_added(e: _Event, clock: Clock) -> MemberSeen | None:
    interface, agent_id = e.get("Interface") or "", e.get("MemberName") or ""
    if not interface or not agent_id:
        return None
    return MemberSeen(interface, agent_id, event_time(e, clock))


_PARSERS: Final[dict[str, Callable[[_Event, Clock], Fact | MemberSeen | None]]] = {
    "newchannel": _new_channel,
    "hangup": _hangup,
    "varset": _var_set,
    "newexten": _new_exten,
    "userevent": _user_event,
    "queuecallerjoin": _queue_join,
    "queuecallerleave": _queue_leave,
    "queuecallerabandon": _queue_abandon,
    "agentcalled": _agent_called,
    "agentringnoanswer": _agent_not_answered,
    "agentdump": _agent_not_answered,
    "agentconnect": _agent_connect,
    "agentcomplete": _agent_complete,
    "hold": _hold(True),
    "unhold": _hold(False),
    "blindtransfer": _blind_transfer,
    "attendedtransfer": _attended_transfer,
    "queuememberadded": _member_added,
}
