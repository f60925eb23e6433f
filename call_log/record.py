"""One call's record, built fact by fact; no I/O here, so it is tested with plain fact lists.

`CallRecord.apply(fact)` updates the record and returns the milestones the fact crossed
(queued, an agent ringing, answered, ended...): the tracker persists and publishes on those.
`CallRecord.snapshot()` is the frozen view handed to the database, the bus and the stub builder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from call_log import facts as f
from call_log.numbers import normalize
from ivr.events import CallbackOutcome, IvrStep, Step

# Stub ids are derived from the linkedid, so every controller (and the reconciler) that sees a
# call names its stub the same way: two writers converge on one stub instead of making two.
STUB_NAMESPACE: Final = uuid.UUID("3f7d4a52-1300-4c4e-9b1a-6d5e13000000")


def stub_id_for(linkedid: str) -> str:
    return str(uuid.uuid5(STUB_NAMESPACE, f"call:{linkedid}"))


class Disposition(StrEnum):
    IN_IVR = "in_ivr"
    IN_QUEUE = "in_queue"
    ANSWERED = "answered"
    ABANDONED_IVR = "abandoned_ivr"
    ABANDONED_QUEUE = "abandoned_queue"
    CALLBACK_REQUESTED = "callback_requested"
    NO_AGENT = "no_agent"
    VOICEMAIL = "voicemail"
    # A callback call (line "callback") whose caller was not reached: busy, no answer, failed.
    NOT_REACHED = "not_reached"

    @property
    def is_final(self) -> bool:
        return self not in (Disposition.IN_IVR, Disposition.IN_QUEUE)


class Milestone(StrEnum):
    STARTED = "started"
    IVR_STEP = "ivr_step"
    QUEUED = "queued"
    RINGING = "ringing"
    RING_ENDED = "ring_ended"
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    CALLBACK_RESULT = "callback_result"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class StepEntry:
    """One entry of a call's timeline (stored in call_steps)."""

    at: datetime
    step: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Crossed:
    """A milestone a fact crossed; `agent_id` for ring/answer milestones."""

    milestone: Milestone
    at: datetime
    agent_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CallSnapshot:
    linkedid: str
    stub_id: str
    line: str
    dialed: str | None
    caller_number: str | None
    caller_country: str | None
    language: str | None
    ivr_path: tuple[str, ...]
    priority: str
    queue: str | None
    received_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float
    agent_id: str | None
    ringing_agents: tuple[str, ...]
    transfers: tuple[dict[str, Any], ...]
    disposition: str
    fallback: str | None
    callback_number: str | None
    callback_message: str | None
    callback_id: str | None
    callback_result: str | None
    related_linkedid: str | None
    survey_score: int | None
    recording_path: str | None
    source: str = "ami"

    @property
    def related_stub_id(self) -> str | None:
        return stub_id_for(self.related_linkedid) if self.related_linkedid else None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def with_source(self, source: str) -> CallSnapshot:
        return replace(self, source=source)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


@dataclass
class CallRecord:
    """The live state of one call; `partial` when the tracker joined it after it began."""

    linkedid: str
    received_at: datetime
    partial: bool = False
    line: str | None = None
    dialed: str | None = None
    raw_caller: str | None = None
    language: str | None = None
    ivr_path: list[str] = field(default_factory=list)
    # The IVR's own running list (L1300_PATH): used when the steps themselves were missed.
    path_variable: list[str] = field(default_factory=list)
    priority: str = "normal"
    queue: str | None = None
    queued_at: datetime | None = None
    left_queue_at: datetime | None = None
    abandoned_in_queue: bool = False
    answered_at: datetime | None = None
    agent_done_at: datetime | None = None
    ended_at: datetime | None = None
    agent_id: str | None = None
    ringing: list[str] = field(default_factory=list)
    ringing_now: set[str] = field(default_factory=set)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    holds: dict[str, datetime] = field(default_factory=dict)
    hold_seconds: float = 0.0
    fallback: str | None = None
    callback_requested: bool = False
    callback_number: str | None = None
    callback_message: str | None = None
    callback_id: str | None = None
    callback_result: str | None = None
    related_linkedid: str | None = None
    voicemail: bool = False
    survey_score: int | None = None
    recording_path: str | None = None
    channels: set[str] = field(default_factory=set)
    first_channel: str | None = None
    steps: list[StepEntry] = field(default_factory=list)
    stub_id: str = ""

    def __post_init__(self) -> None:
        if not self.stub_id:
            self.stub_id = stub_id_for(self.linkedid)

    @classmethod
    def resume(cls, snap: CallSnapshot, steps: list[StepEntry]) -> CallRecord:
        """A record taken up again from the database (controller restarted mid-call)."""
        record = cls(
            linkedid=snap.linkedid,
            received_at=snap.received_at,
            partial=True,
            line=snap.line,
            dialed=snap.dialed,
            raw_caller=snap.caller_number,
            language=snap.language,
            ivr_path=list(snap.ivr_path),
            priority=snap.priority,
            queue=snap.queue,
            queued_at=snap.queued_at,
            answered_at=snap.answered_at,
            ended_at=snap.ended_at,
            agent_id=snap.agent_id,
            ringing=list(snap.ringing_agents),
            transfers=list(snap.transfers),
            hold_seconds=snap.hold_seconds,
            fallback=snap.fallback,
            callback_number=snap.callback_number,
            callback_message=snap.callback_message,
            callback_id=snap.callback_id,
            callback_result=snap.callback_result,
            related_linkedid=snap.related_linkedid,
            survey_score=snap.survey_score,
            recording_path=snap.recording_path,
            steps=list(steps),
            stub_id=snap.stub_id,
        )
        record._flags_from_steps()
        return record

    def _flags_from_steps(self) -> None:
        for entry in self.steps:
            match entry.step:
                case "queue_joined":
                    self.left_queue_at, self.abandoned_in_queue = None, False
                case "queue_left" | "answered":
                    self.left_queue_at = self.left_queue_at or entry.at
                case "queue_abandoned":
                    self.abandoned_in_queue = True
                    self.left_queue_at = self.left_queue_at or entry.at
                case "agent_complete" if entry.detail.get("agent_id") == self.agent_id:
                    if entry.detail.get("reason") != "transfer":
                        self.agent_done_at = entry.at
                case "voicemail":
                    self.voicemail = True
                case "callback_requested":
                    self.callback_requested = True

    @property
    def origin_endpoint(self) -> str | None:
        """The endpoint of the call's first channel ("agent-001" for an originated callback)."""
        if not self.first_channel or "/" not in self.first_channel:
            return None
        return self.first_channel.split("/", 1)[1].rsplit("-", 1)[0]

    def needs_callback_agent(self) -> bool:
        # A callback call starts on the agent's phone (Originate), not through a queue.
        return self.line == "callback" and self.agent_id is None and self.first_channel is not None

    # ------------------------------------------------------------------ facts

    def apply(self, fact: f.Fact) -> list[Crossed]:
        """Take one fact into the record; the milestones it crossed, in order."""
        handler = _HANDLERS[type(fact)]
        uniqueid: str = getattr(fact, "uniqueid", "")
        if uniqueid and not isinstance(fact, f.ChannelHungUp):
            self.channels.add(uniqueid)
        crossed: list[Crossed] = handler(self, fact)
        return crossed

    def _on_channel(self, fact: f.ChannelCreated) -> list[Crossed]:
        if not fact.starts_call:
            return []
        self.first_channel = fact.channel
        self.received_at = min(self.received_at, fact.at)
        self.raw_caller = self.raw_caller or fact.caller_number
        self.dialed = self.dialed or fact.exten
        self.partial = False
        return [Crossed(Milestone.STARTED, fact.at)]

    def _on_hangup(self, fact: f.ChannelHungUp) -> list[Crossed]:
        self.channels.discard(fact.uniqueid)
        self._close_hold(fact.uniqueid, fact.at)
        if self.channels or self.ended_at is not None:
            return []
        self.ended_at = fact.at
        crossed = [
            Crossed(Milestone.RING_ENDED, fact.at, agent, "caller_left")
            for agent in sorted(self.ringing_now)
        ]
        self.ringing_now.clear()
        for channel in list(self.holds):
            self._close_hold(channel, fact.at)
        self._step(fact.at, "ended", disposition=self.disposition.value)
        return [*crossed, Crossed(Milestone.ENDED, fact.at)]

    def take_variables(self, pairs: tuple[tuple[str, str], ...]) -> None:
        """The call's variables as an event carried them (facts.channel_variables)."""
        for name, value in pairs:
            self._set_variable(name, value)

    def _on_variable(self, fact: f.VariableSet) -> list[Crossed]:
        self._set_variable(fact.variable, fact.value)
        return []

    def _set_variable(self, name: str, text: str) -> None:
        value = text.strip() or None
        match name:
            case "L1300_LINE":
                self.line = value or self.line
            case "L1300_DIALED":
                self.dialed = value or self.dialed
            case "L1300_LANG":
                self.language = value or self.language
            case "L1300_PRIORITY":
                self.priority = value or self.priority
            case "L1300_PATH":
                self.path_variable = [p for p in (value or "").split(",") if p]
            case "L1300_CALLBACK_ID":
                self.callback_id = value or self.callback_id
            case "L1300_CALLBACK_NUMBER":
                self.callback_number = value or self.callback_number
            case "L1300_RELATED_LINKEDID":
                self.related_linkedid = value or self.related_linkedid

    def _on_voicemail(self, fact: f.VoicemailStarted) -> list[Crossed]:
        self.voicemail = True
        self._step(fact.at, "voicemail")
        return []

    def _on_ivr(self, fact: f.IvrReported) -> list[Crossed]:
        step = fact.step
        self._take_ivr_fields(step)
        self._step(step.at, step.step.value, **_ivr_detail(step))
        return [Crossed(Milestone.IVR_STEP, step.at, reason=step.step.value)]

    def _take_ivr_fields(self, step: IvrStep) -> None:
        self.line = step.line.value if step.line else self.line
        self.dialed = step.dialed or self.dialed
        self.language = step.lang or self.language
        self.priority = step.priority.value if step.priority else self.priority
        self.queue = step.queue or self.queue
        if step.selection and step.step in _PATH_STEPS:
            self.ivr_path.append(step.selection)
        if step.step is Step.FALLBACK and step.fallback:
            self.fallback = step.fallback.value
        if step.step is Step.CALLBACK_REQUESTED:
            self.callback_requested = True
            self.callback_number = step.callback_number or self.callback_number
            self.callback_message = step.message or self.callback_message
        if step.step is Step.SURVEY and step.score is not None:
            self.survey_score = step.score
        self.recording_path = step.recording or self.recording_path

    def _on_callback(self, fact: f.CallbackReported) -> list[Crossed]:
        result = fact.result
        self.line = "callback"
        self.callback_id = result.callback_id
        self.callback_result = result.result.value
        if result.result is CallbackOutcome.ANSWERED and self.answered_at is None:
            self.answered_at = result.at
        self._step(result.at, "callback_result", result=result.result.value)
        return [Crossed(Milestone.CALLBACK_RESULT, result.at, self.agent_id, result.result.value)]

    def _on_queue_join(self, fact: f.QueueJoined) -> list[Crossed]:
        first = self.queued_at is None
        self.queue = fact.queue or self.queue
        self.queued_at = self.queued_at or fact.at
        self.left_queue_at = None
        self._step(fact.at, "queue_joined", queue=fact.queue, position=fact.position)
        return [Crossed(Milestone.QUEUED, fact.at)] if first else []

    def _on_queue_leave(self, fact: f.QueueLeft) -> list[Crossed]:
        self.left_queue_at = fact.at
        self._step(fact.at, "queue_left", queue=fact.queue)
        return []

    def _on_abandon(self, fact: f.QueueAbandoned) -> list[Crossed]:
        self.abandoned_in_queue = True
        self.left_queue_at = self.left_queue_at or fact.at
        self._step(fact.at, "queue_abandoned", queue=fact.queue, hold_seconds=fact.hold_seconds)
        return []

    def _on_agent_rang(self, fact: f.AgentRang) -> list[Crossed]:
        if fact.agent_id not in self.ringing:
            self.ringing.append(fact.agent_id)
        self.ringing_now.add(fact.agent_id)
        self._step(fact.at, "agent_ringing", agent_id=fact.agent_id, queue=fact.queue)
        return [Crossed(Milestone.RINGING, fact.at, fact.agent_id)]

    def _on_agent_stopped(self, fact: f.AgentStoppedRinging) -> list[Crossed]:
        if fact.agent_id not in self.ringing_now:
            return []
        self.ringing_now.discard(fact.agent_id)
        self._step(fact.at, "agent_no_answer", agent_id=fact.agent_id)
        return [Crossed(Milestone.RING_ENDED, fact.at, fact.agent_id, "no_answer")]

    def _on_agent_answered(self, fact: f.AgentAnswered) -> list[Crossed]:
        others = sorted(self.ringing_now - {fact.agent_id})
        self.ringing_now.clear()
        if fact.agent_id not in self.ringing:
            self.ringing.append(fact.agent_id)
        self.queue = fact.queue or self.queue
        self.left_queue_at = self.left_queue_at or fact.at
        crossed = [Crossed(Milestone.RING_ENDED, fact.at, a, "answered_elsewhere") for a in others]
        if self.answered_at is None:
            self.answered_at = fact.at
            self.agent_id = fact.agent_id
        elif fact.agent_id != self.agent_id:
            self.transfers.append(
                {"at": fact.at.isoformat(), "kind": "queue", "to_agent": fact.agent_id}
            )
        self._step(fact.at, "answered", agent_id=fact.agent_id, queue=fact.queue)
        return [*crossed, Crossed(Milestone.ANSWERED, fact.at, fact.agent_id)]

    def _on_agent_finished(self, fact: f.AgentFinished) -> list[Crossed]:
        # After a transfer the talk goes on with someone else; it ends with the call instead.
        if fact.agent_id == self.agent_id and fact.reason != "transfer":
            self.agent_done_at = fact.at
        self._step(fact.at, "agent_complete", agent_id=fact.agent_id, reason=fact.reason)
        return []

    def _on_hold(self, fact: f.HoldChanged) -> list[Crossed]:
        if fact.on_hold:
            self.holds.setdefault(fact.uniqueid, fact.at)
        else:
            self._close_hold(fact.uniqueid, fact.at)
        self._step(fact.at, "hold" if fact.on_hold else "unhold")
        return []

    def _on_transfer(self, fact: f.Transferred) -> list[Crossed]:
        if fact.result not in (None, "Success"):
            # Refused by Asterisk ("Invalid", "Fail", "Not Permitted"): the call stayed where
            # it was. Kept as a step for the record, like CEL, which logs only a success.
            self._step(fact.at, "transfer_failed", kind=fact.kind, to=fact.to, result=fact.result)
            return []
        entry = {
            "at": fact.at.isoformat(),
            "kind": fact.kind,
            "from_agent": self.agent_id,
            "to": fact.to,
            "result": fact.result,
        }
        self.transfers.append(entry)
        self._step(fact.at, "transfer", **{k: v for k, v in entry.items() if k != "at"})
        return [Crossed(Milestone.TRANSFERRED, fact.at, self.agent_id)]

    # ------------------------------------------------------------- derived

    def _close_hold(self, uniqueid: str, at: datetime) -> None:
        started = self.holds.pop(uniqueid, None)
        if started is not None:
            self.hold_seconds = round(self.hold_seconds + (at - started).total_seconds(), 3)

    def _step(self, at: datetime, step: str, /, **detail: Any) -> None:
        self.steps.append(StepEntry(at, step, {k: v for k, v in detail.items() if v is not None}))

    @property
    def disposition(self) -> Disposition:
        if self.line == "callback" or self.callback_result is not None:
            return self._callback_call_disposition()
        if self.answered_at is not None:
            return Disposition.ANSWERED
        if self.callback_requested:
            return Disposition.CALLBACK_REQUESTED
        if self.ended_at is None:
            return Disposition.IN_QUEUE if self.queued_at else Disposition.IN_IVR
        if self.voicemail:
            return Disposition.VOICEMAIL
        if self.queued_at is None:
            return Disposition.ABANDONED_IVR
        # Left the queue without an agent and without hanging up there: timeout or nobody on
        # shift. Still in the queue when the call ended, or Abandon seen: the caller gave up.
        if self.left_queue_at is not None and not self.abandoned_in_queue:
            return Disposition.NO_AGENT
        return Disposition.ABANDONED_QUEUE

    def _callback_call_disposition(self) -> Disposition:
        if self.answered_at is not None or self.callback_result == CallbackOutcome.ANSWERED:
            return Disposition.ANSWERED
        if self.ended_at is None:
            return Disposition.IN_QUEUE if self.queued_at else Disposition.IN_IVR
        return Disposition.NOT_REACHED

    @property
    def wait_seconds(self) -> float | None:
        """From entering the first queue to an agent's answer, or to leaving the queue."""
        if self.queued_at is None:
            return None
        end = self.answered_at or self.left_queue_at or self.ended_at
        return _seconds(self.queued_at, end)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        # The caller may stay on for the survey after the agent hung up: that is not talk.
        return _seconds(self.answered_at, self.agent_done_at or self.ended_at)

    def snapshot(self) -> CallSnapshot:
        caller = normalize(self.raw_caller)
        return CallSnapshot(
            linkedid=self.linkedid,
            stub_id=self.stub_id,
            line=self.line or "domestic",
            dialed=self.dialed,
            caller_number=caller.e164,
            caller_country=caller.country,
            language=self.language,
            ivr_path=tuple(self.ivr_path or self.path_variable),
            priority=self.priority,
            queue=self.queue,
            received_at=self.received_at,
            queued_at=self.queued_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            wait_seconds=self.wait_seconds,
            talk_seconds=self.talk_seconds,
            hold_seconds=self.hold_seconds,
            agent_id=self.agent_id,
            ringing_agents=tuple(self.ringing),
            transfers=tuple(self.transfers),
            disposition=self.disposition.value,
            fallback=self.fallback,
            callback_number=normalize(self.callback_number).e164 or self.callback_number,
            callback_message=self.callback_message,
            callback_id=self.callback_id,
            callback_result=self.callback_result,
            related_linkedid=self.related_linkedid,
            survey_score=self.survey_score,
            recording_path=self.recording_path,
            source="partial" if self.partial else "ami",
        )


# Steps whose Selection is a caller's menu choice (IVR path); "invalid" and "no_input" are not.
_PATH_STEPS: Final = frozenset(
    {
        Step.LANGUAGE,
        Step.MENU,
        Step.EMERGENCY_KEY,
        Step.FALLBACK,
        Step.QUEUE_CALLBACK_KEY,
    }
)


def _ivr_detail(step: IvrStep) -> dict[str, Any]:
    return {
        "selection": step.selection,
        "lang": step.lang,
        "queue": step.queue,
        "priority": step.priority.value if step.priority else None,
        "fallback": step.fallback.value if step.fallback else None,
        "score": step.score,
    }


_HANDLERS: Final[dict[type, Any]] = {
    f.ChannelCreated: CallRecord._on_channel,
    f.ChannelHungUp: CallRecord._on_hangup,
    f.VariableSet: CallRecord._on_variable,
    f.VoicemailStarted: CallRecord._on_voicemail,
    f.IvrReported: CallRecord._on_ivr,
    f.CallbackReported: CallRecord._on_callback,
    f.QueueJoined: CallRecord._on_queue_join,
    f.QueueLeft: CallRecord._on_queue_leave,
    f.QueueAbandoned: CallRecord._on_abandon,
    f.AgentRang: CallRecord._on_agent_rang,
    f.AgentStoppedRinging: CallRecord._on_agent_stopped,
    f.AgentAnswered: CallRecord._on_agent_answered,
    f.AgentFinished: CallRecord._on_agent_finished,
    f.HoldChanged: CallRecord._on_hold,
    f.Transferred: CallRecord._on_transfer,
}
