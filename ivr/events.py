"""What the IVR dialplan reports to the controller, as value objects.

The dialplan reports every step twice: ``UserEvent(Line1300Ivr,Step: ...,...)`` for the live AMI
stream and ``CELGenUserEvent(Line1300Ivr,<same payload>)`` so that a controller that was down can
reconcile from CEL. Both copies parse into the same ``IvrStep``. The callback context reports
``UserEvent(Line1300Callback,CallbackId: ...,Result: ...)``, parsed into ``CallbackResult``.

Header names (see the cross-room contract): Step, Line, Dialed, Lang, Selection, Priority, Queue,
Fallback, CallbackNumber, Message, Score, plus Recording on ``queued`` when the call is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Protocol, TypeVar

__all__ = [
    "CALLBACK_EVENT",
    "IVR_EVENT",
    "CallbackOutcome",
    "CallbackResult",
    "Fallback",
    "IvrStep",
    "Line",
    "Priority",
    "Step",
    "parse_payload",
]

IVR_EVENT: Final = "Line1300Ivr"
CALLBACK_EVENT: Final = "Line1300Callback"


class Step(StrEnum):
    ENTERED = "entered"
    LANGUAGE = "language"
    MENU = "menu"
    EMERGENCY_KEY = "emergency_key"
    INVALID = "invalid"
    NO_INPUT = "no_input"
    DEFAULT_QUEUE = "default_queue"
    FALLBACK_OFFERED = "fallback_offered"
    FALLBACK = "fallback"
    CALLBACK_REQUESTED = "callback_requested"
    QUEUED = "queued"
    QUEUE_CALLBACK_KEY = "queue_callback_key"
    SURVEY = "survey"


class Line(StrEnum):
    DOMESTIC = "domestic"
    INTERNATIONAL = "international"
    CALLBACK = "callback"


class Priority(StrEnum):
    CRITICAL = "critical"
    URGENT = "urgent"
    NORMAL = "normal"


class Fallback(StrEnum):
    ENGLISH_DESK = "english_desk"
    CALLBACK = "callback"


class CallbackOutcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class _HeaderSource(Protocol):
    """What ``ami.Event`` offers; a Protocol so this module does not import the AMI package."""

    @property
    def name(self) -> str: ...

    @property
    def items(self) -> tuple[tuple[str, str], ...]: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...


Clock = Callable[[], datetime]
_E = TypeVar("_E", bound=StrEnum)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IvrStep:
    """One step of one caller through the IVR."""

    step: Step
    linkedid: str
    uniqueid: str
    line: Line | None
    dialed: str | None
    lang: str | None
    selection: str | None
    priority: Priority | None
    queue: str | None
    fallback: Fallback | None
    callback_number: str | None
    message: str | None
    score: int | None
    at: datetime
    recording: str | None = None

    @classmethod
    def from_event(cls, event: _HeaderSource, clock: Clock = _utcnow) -> IvrStep | None:
        """Parse an AMI ``UserEvent`` (or a ``CEL`` event of a ``CELGenUserEvent``).

        Returns None for any other event, or a Line1300Ivr event without a known step or
        call id (a newer dialplan than this controller: ignoring beats guessing).
        """
        if event.name == "UserEvent" and event.get("UserEvent") == IVR_EVENT:
            return cls._from_user_event(event, clock)
        if event.name == "CEL" and event.get("EventName") == "USER_DEFINED":
            if event.get("UserDefType") != IVR_EVENT:
                return None
            return cls.from_cel(
                extra=event.get("Extra") or "",
                linkedid=event.get("LinkedID") or "",
                uniqueid=event.get("UniqueID") or "",
                at=_parse_cel_time(event.get("EventTime")) or clock(),
            )
        return None

    @classmethod
    def from_cel(cls, *, extra: str, linkedid: str, uniqueid: str, at: datetime) -> IvrStep | None:
        """Parse a CEL ``USER_DEFINED`` record (AMI or the CEL database) of type Line1300Ivr."""
        return cls.from_payload(parse_payload(_unwrap_cel_extra(extra)), linkedid, uniqueid, at)

    @classmethod
    def from_payload(
        cls, body: Mapping[str, str], linkedid: str, uniqueid: str, at: datetime
    ) -> IvrStep | None:
        step = _enum(Step, body.get("Step"))
        if step is None or not linkedid:
            return None
        return cls(
            step=step,
            linkedid=linkedid,
            uniqueid=uniqueid or linkedid,
            line=_enum(Line, body.get("Line")),
            dialed=_text(body.get("Dialed")),
            lang=_text(body.get("Lang")),
            selection=_text(body.get("Selection")),
            priority=_enum(Priority, body.get("Priority")),
            queue=_text(body.get("Queue")),
            fallback=_enum(Fallback, body.get("Fallback")),
            callback_number=_text(body.get("CallbackNumber")),
            message=_text(body.get("Message")),
            score=_score(body.get("Score")),
            at=at,
            recording=_text(body.get("Recording")),
        )

    @classmethod
    def _from_user_event(cls, event: _HeaderSource, clock: Clock) -> IvrStep | None:
        at = _parse_timestamp(event.get("Timestamp")) or clock()
        return cls.from_payload(
            _user_event_body(event.items),
            event.get("Linkedid") or "",
            event.get("Uniqueid") or "",
            at,
        )


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """The outcome of one callback attempt, reported by context ``line1300-callback``."""

    callback_id: str
    result: CallbackOutcome
    linkedid: str
    uniqueid: str
    dial_status: str | None
    at: datetime

    @classmethod
    def from_event(cls, event: _HeaderSource, clock: Clock = _utcnow) -> CallbackResult | None:
        if event.name != "UserEvent" or event.get("UserEvent") != CALLBACK_EVENT:
            return None
        body = _user_event_body(event.items)
        result = _enum(CallbackOutcome, body.get("Result"))
        callback_id = _text(body.get("CallbackId"))
        if result is None or callback_id is None:
            return None
        return cls(
            callback_id=callback_id,
            result=result,
            linkedid=event.get("Linkedid") or "",
            uniqueid=event.get("Uniqueid") or "",
            dial_status=_text(body.get("DialStatus")),
            at=_parse_timestamp(event.get("Timestamp")) or clock(),
        )


def parse_payload(text: str) -> dict[str, str]:
    """``"Step: entered,Line: domestic"`` → ``{"Step": "entered", "Line": "domestic"}``.

    The dialplan strips commas from every value it reports, so a comma always separates fields.
    """
    body: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition(":")
        if sep:
            body[key.strip()] = value.strip()
    return body


def _user_event_body(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # The channel snapshot comes before the "UserEvent" header and has its own "Priority" (the
    # dialplan priority number): only the headers after it are the IVR's.
    body: dict[str, str] = {}
    seen_marker = False
    for key, value in items:
        if seen_marker:
            body[key] = value
        elif key.lower() == "userevent":
            seen_marker = True
    return body


def _unwrap_cel_extra(extra: str) -> str:
    # Asterisk stores a CELGenUserEvent's text as JSON {"extra": "<text>"}; older versions and
    # some backends give the text as it is.
    stripped = extra.strip()
    if stripped.startswith("{"):
        try:
            decoded = json.loads(stripped)
        except ValueError:
            return extra
        if isinstance(decoded, dict) and isinstance(decoded.get("extra"), str):
            return str(decoded["extra"])
    return extra


def _enum(kind: type[_E], value: str | None) -> _E | None:
    if not value:
        return None
    try:
        return kind(value.strip().lower())
    except ValueError:
        return None


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _score(value: str | None) -> int | None:
    text = (value or "").strip()
    if len(text) == 1 and text in "12345":
        return int(text)
    return None


def _parse_timestamp(value: str | None) -> datetime | None:
    """AMI ``Timestamp: 1732512345.123456`` (manager.conf timestampevents=yes)."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


def _parse_cel_time(value: str | None) -> datetime | None:
    """CEL ``EventTime``: epoch seconds or ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC as configured)."""
    if not value:
        return None
    stamp = _parse_timestamp(value)
    if stamp is not None:
        return stamp
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
