"""AMI protocol value objects and an incremental frame parser.

AMI is a text protocol: after a one-line banner, each frame is a block of
``Key: Value`` lines ended by an empty line (``\\r\\n\\r\\n``). Frames from
Asterisk are responses (``Response:``) or events (``Event:``); frames to
Asterisk are actions (``Action:``).

Value objects are immutable because one ``Event`` is shared by every
subscriber: one handler must not be able to change what another one sees.
Their ``repr`` shows header names but never values, so a stray
``log.info(event=event)`` cannot leak a caller's number or the AMI secret.
"""

from __future__ import annotations

import codecs
import itertools
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "BANNER_PREFIX",
    "NON_IDEMPOTENT_ACTIONS",
    "Action",
    "Event",
    "Frame",
    "FrameKind",
    "FrameParser",
    "HeaderValue",
    "ParserStats",
    "Problem",
    "Response",
    "new_action_id",
]

EOL: Final = "\r\n"
BANNER_PREFIX: Final = "Asterisk Call Manager"

FrameKind = Literal["event", "response", "unknown"]

Problem = Literal[
    "line_capped",  # a line longer than max_line_length was cut
    "frame_too_large",  # lines beyond max_frame_chars were dropped
    "truncated_at_eof",  # the stream ended before the frame's blank line
    "no_event_or_response",  # no Event, Response (or, from a client, Action) header
    "duplicate_identity_key",  # Event/Response/ActionID given twice
    "invalid_utf8",  # undecodable bytes, replaced by U+FFFD
]

# Keys that decide where a frame goes; a second copy of one of them means the
# frame is garbled. Other keys (Output, ChanVariable, Variable) legitimately
# repeat. "action" is there so that test servers can parse client frames.
_IDENTITY_KEYS: Final = frozenset({"event", "response", "action", "actionid"})
_KIND_KEYS: Final = frozenset({"event", "response", "action"})

# Status values of a Response that mean the action was accepted. "Pong" is the
# Ping answer of old Asterisk versions; "Follows" the Command answer before 14.
_OK_STATUSES: Final = frozenset({"success", "follows", "goodbye", "pong"})

# Actions whose repetition has a visible effect (a phone rings twice, a call is
# moved twice). They are never re-sent after a reconnect; see ActionLost.
NON_IDEMPOTENT_ACTIONS: Final = frozenset(
    {
        "originate",
        "redirect",
        "atxfer",
        "blindtransfer",
        "bridge",
        "hangup",
        "playdtmf",
        "sendtext",
        "userevent",
        "queuelog",
    }
)

HeaderValue = str | int | Sequence[str]


class _Headers:
    """Header lookups shared by frames, events and responses."""

    __slots__ = ()

    items: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]

    def get(self, key: str, default: str | None = None) -> str | None:
        """Value of ``key`` (case-insensitive; the last one if repeated)."""
        value = self.headers.get(key)
        if value is not None:
            return value
        lowered = key.lower()
        for name, val in reversed(self.items):
            if name.lower() == lowered:
                return val
        return default

    def getall(self, key: str) -> list[str]:
        """Every value of a repeatable key (``Output``, ``ChanVariable``...)."""
        lowered = key.lower()
        return [val for name, val in self.items if name.lower() == lowered]


def _freeze(items: Iterable[tuple[str, str]]) -> Mapping[str, str]:
    # Last value wins, as most AMI clients do for repeated keys; getall()
    # gives every value.
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True, repr=False)
class Frame(_Headers):
    """One raw frame as parsed, before it is known to be an event or a response."""

    items: tuple[tuple[str, str], ...]
    body: tuple[str, ...]  # lines without a colon, in order
    raw: str
    received_at: float
    problems: tuple[Problem, ...] = ()
    headers: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _freeze(self.items))

    @property
    def kind(self) -> FrameKind:
        # Event first: some events carry a Response header (OriginateResponse
        # has "Response: Success"), while no response carries an Event header.
        if self.get("Event") is not None:
            return "event"
        if self.get("Response") is not None:
            return "response"
        return "unknown"

    @property
    def malformed(self) -> bool:
        return bool(self.problems)

    def __repr__(self) -> str:
        keys = ",".join(name for name, _ in self.items)
        return f"<Frame kind={self.kind} keys=[{keys}] problems={list(self.problems)}>"


@dataclass(frozen=True, slots=True, repr=False)
class Event(_Headers):
    """An AMI event; ``received_at`` is on the link's monotonic clock."""

    name: str
    headers: Mapping[str, str]
    raw: str
    received_at: float
    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_frame(cls, frame: Frame) -> Event:
        return cls(
            name=frame.get("Event") or "",
            headers=frame.headers,
            raw=frame.raw,
            received_at=frame.received_at,
            items=frame.items,
        )

    @classmethod
    def build(cls, name: str, headers: Mapping[str, str], *, received_at: float = 0.0) -> Event:
        """Make an event by hand (tests, synthetic events)."""
        items = (("Event", name), *headers.items())
        raw = EOL.join(f"{k}: {v}" for k, v in items)
        return cls(name=name, headers=_freeze(items), raw=raw, received_at=received_at, items=items)

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def __repr__(self) -> str:
        keys = ",".join(name for name, _ in self.items)
        return f"<Event {self.name} keys=[{keys}]>"


@dataclass(frozen=True, slots=True, repr=False)
class Response(_Headers):
    """The answer to an action; list actions carry their events in ``events``."""

    status: str  # value of the Response header: Success, Error, Goodbye...
    headers: Mapping[str, str]
    raw: str
    received_at: float
    items: tuple[tuple[str, str], ...] = ()
    body: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()

    @classmethod
    def from_frame(cls, frame: Frame, events: Sequence[Event] = ()) -> Response:
        return cls(
            status=frame.get("Response") or "",
            headers=frame.headers,
            raw=frame.raw,
            received_at=frame.received_at,
            items=frame.items,
            body=frame.body,
            events=tuple(events),
        )

    @property
    def ok(self) -> bool:
        return self.status.lower() in _OK_STATUSES

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def message(self) -> str:
        return self.get("Message") or ""

    @property
    def is_list_start(self) -> bool:
        """True when events follow this response (QueueStatus, Status...)."""
        if (self.get("EventList") or "").lower() == "start":
            return True
        return "will follow" in self.message.lower()

    @property
    def output(self) -> list[str]:
        """Command output: ``Output:`` lines (Asterisk >= 14) or body lines."""
        return self.getall("Output") or list(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} events={len(self.events)} message={self.message!r}>"


_ID_PREFIX: Final = f"l1300-{secrets.token_hex(4)}"
_id_counter = itertools.count(1)


def new_action_id() -> str:
    """A process-unique ActionID; the random part avoids clashes between restarts."""
    return f"{_ID_PREFIX}-{next(_id_counter)}"


def _check_text(what: str, text: str, *, key: bool) -> None:
    # A CR or LF in a value would end the header early and let the rest be
    # read as a new header or a whole new action: AMI header injection.
    if "\r" in text or "\n" in text:
        raise ValueError(f"AMI {what} must not contain CR or LF")
    if key and (not text.strip() or ":" in text):
        raise ValueError(f"invalid AMI header name {text!r}")


def _normalize(value: HeaderValue) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int):
        return (str(value),)
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True, repr=False)
class Action:
    """An action to send. ``idempotent=None`` means: decided by the action name."""

    name: str
    headers: Mapping[str, HeaderValue] = field(default_factory=dict)
    action_id: str = field(default_factory=new_action_id)
    idempotent: bool | None = None
    fields: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        _check_text("action name", self.name, key=True)
        _check_text("ActionID", self.action_id, key=False)
        pairs: list[tuple[str, str]] = []
        for key, value in self.headers.items():
            _check_text("header name", key, key=True)
            if key.lower() in ("action", "actionid"):
                raise ValueError(f"pass {key} as Action.name / Action.action_id, not as a header")
            for text in _normalize(value):
                _check_text(f"value of {key}", text, key=False)
                pairs.append((key, text))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        object.__setattr__(self, "fields", tuple(pairs))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, HeaderValue], *, idempotent: bool | None = None
    ) -> Action:
        """Build from a panoramisk-style dict: ``{"Action": "Ping", ...}``."""
        rest = dict(data)
        name = action_id = None
        for key in list(rest):
            if key.lower() == "action":
                name = rest.pop(key)
            elif key.lower() == "actionid":
                action_id = rest.pop(key)
        if not isinstance(name, str):
            raise ValueError("an action mapping needs an 'Action' key with a string value")
        if action_id is None:
            return cls(name, rest, idempotent=idempotent)
        return cls(name, rest, action_id=str(action_id), idempotent=idempotent)

    @property
    def is_idempotent(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.name.lower() not in NON_IDEMPOTENT_ACTIONS

    def encode(self) -> bytes:
        lines = [f"Action: {self.name}", f"ActionID: {self.action_id}"]
        lines.extend(f"{key}: {value}" for key, value in self.fields)
        return (EOL.join(lines) + EOL + EOL).encode("utf-8")

    def __repr__(self) -> str:
        keys = ",".join(self.headers)
        return f"<Action {self.name} id={self.action_id} keys=[{keys}]>"


@dataclass(slots=True)
class ParserStats:
    bytes_received: int = 0
    frames: int = 0
    malformed_frames: int = 0
    capped_lines: int = 0


class FrameParser:
    """Turns a byte stream into frames, whatever the read boundaries are.

    Bytes are decoded with an incremental UTF-8 decoder, so a Thai character
    split across two TCP reads is kept whole (panoramisk decodes each read on
    its own and silently drops such characters). Invalid bytes become U+FFFD.

    Memory is bounded: a line longer than ``max_line_length`` is cut (the rest
    is skipped up to its newline) and a frame's lines beyond
    ``max_frame_chars`` are dropped; both are flagged in ``Frame.problems``.
    """

    def __init__(
        self,
        *,
        max_line_length: int = 16 * 1024,
        max_frame_chars: int = 4 * 1024 * 1024,
        expect_banner: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_line_length = max_line_length
        self.max_frame_chars = max_frame_chars
        self.banner: str | None = None
        self.stats = ParserStats()
        self._clock = clock
        self._expect_banner = expect_banner
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []
        self._partial_len = 0
        self._skipping = False  # discarding the rest of an over-long line
        self._lines: list[str] = []
        self._frame_chars = 0
        self._problems: list[Problem] = []

    @property
    def version(self) -> str | None:
        """AMI protocol version from the banner, e.g. ``"9.0.0"``."""
        if self.banner is None:
            return None
        return self.banner.partition("/")[2].strip() or None

    def feed(self, data: bytes) -> list[Frame]:
        self.stats.bytes_received += len(data)
        return self._consume(self._decoder.decode(data))

    def feed_eof(self) -> list[Frame]:
        """Flush at end of stream; a frame without its blank line is returned
        flagged ``truncated_at_eof`` (the link does not deliver such frames)."""
        frames = self._consume(self._decoder.decode(b"", final=True))
        if self._partial_len or self._skipping:
            frame = self._complete_line()
            if frame is not None:
                frames.append(frame)
        if self._lines:
            self._problems.append("truncated_at_eof")
            frames.append(self._finish())
        return frames

    def _consume(self, text: str) -> list[Frame]:
        frames: list[Frame] = []
        pieces = text.split("\n")
        for piece in pieces[:-1]:
            self._append(piece)
            frame = self._complete_line()
            if frame is not None:
                frames.append(frame)
        self._append(pieces[-1])
        return frames

    def _append(self, piece: str) -> None:
        if self._skipping or not piece:
            return
        room = self.max_line_length - self._partial_len
        if len(piece) > room:
            piece = piece[:room]
            self._skipping = True
        self._partial.append(piece)
        self._partial_len += len(piece)

    def _complete_line(self) -> Frame | None:
        line = "".join(self._partial)
        capped = self._skipping
        self._partial.clear()
        self._partial_len = 0
        self._skipping = False
        if line.endswith("\r"):
            line = line[:-1]
        if self._expect_banner:
            self._expect_banner = False
            if line.startswith(BANNER_PREFIX):
                self.banner = line
                return None
        if not line and not capped:
            # Several blank lines in a row are not empty frames.
            return self._finish() if self._lines else None
        if capped:
            self.stats.capped_lines += 1
            self._problems.append("line_capped")
        self._add_line(line)
        return None

    def _add_line(self, line: str) -> None:
        self._frame_chars += len(line) + len(EOL)
        if self._frame_chars > self.max_frame_chars:
            if "frame_too_large" not in self._problems:
                self._problems.append("frame_too_large")
            return
        self._lines.append(line)

    def _finish(self) -> Frame:
        items: list[tuple[str, str]] = []
        body: list[str] = []
        for line in self._lines:
            key, sep, value = line.partition(":")
            key = key.strip()
            if sep and key and " " not in key:
                # Header names are a small set repeated in every event: one shared string each
                # (interned strings are freed with their last user) instead of a copy per
                # event, a fifth of a queued event's memory when a subscriber falls behind.
                items.append((sys.intern(key), value[1:] if value.startswith(" ") else value))
            else:
                body.append(line)
        problems = self._problems
        self._check_identity(items, problems)
        raw = EOL.join(self._lines)
        if "\ufffd" in raw:
            problems.append("invalid_utf8")
        frame = Frame(
            items=tuple(items),
            body=tuple(body),
            raw=raw,
            received_at=self._clock(),
            problems=tuple(dict.fromkeys(problems)),
        )
        self._lines = []
        self._frame_chars = 0
        self._problems = []
        self.stats.frames += 1
        if frame.malformed:
            self.stats.malformed_frames += 1
        return frame

    @staticmethod
    def _check_identity(items: list[tuple[str, str]], problems: list[Problem]) -> None:
        seen: set[str] = set()
        for key, _ in items:
            lowered = key.lower()
            if lowered in _IDENTITY_KEYS:
                if lowered in seen:
                    problems.append("duplicate_identity_key")
                seen.add(lowered)
        if not seen & _KIND_KEYS:
            problems.append("no_event_or_response")
