"""``AmiLink``: the one AMI connection the rest of the controller uses.

What it does differently from panoramisk 1.4's ``Manager``:

* bytes are decoded incrementally (``FrameParser``), so Thai text split across
  TCP reads survives, and malformed frames are counted, not fatal;
* every action has a deadline (``ActionTimeout``) that also covers waiting
  for a login; nothing stays in the pending map after its deadline, a
  disconnect or ``close()``;
* actions in flight when the connection drops fail with ``ActionLost`` and
  are never re-sent (panoramisk re-sends them, so an Originate can ring
  twice); actions not yet sent wait for the next login;
* reconnects use capped exponential backoff with jitter; a periodic Ping
  detects half-open sockets within ``ping_interval + ping_timeout``;
* events go to per-subscriber queues (``ami.dispatch``), so a slow handler
  delays nobody else.

Each connection has its own pending map, so a response is only ever matched
against actions sent on that same connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import ssl as ssl_module
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Final

import structlog

from .backoff import Backoff
from .dispatch import EventHandler, Mailbox, SubscriberStats, Subscription
from .errors import ActionLost, ActionTimeout, AmiError, LinkClosed, LoginFailed
from .frames import Action, Event, Frame, FrameParser, HeaderValue, Response
from .recording import StreamRecorder

__all__ = ["AmiLink", "LinkState", "LinkStats", "StateChange", "StateHandler"]

_log = structlog.get_logger(__name__)

_READ_SIZE: Final = 64 * 1024
_LIST_END_MARKERS: Final = frozenset({"complete", "cancelled"})


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"  # TCP connect or Login in progress
    CONNECTED = "connected"  # logged in
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """Told to ``on_state`` handlers. ``session`` counts successful logins, so
    a handler can tell a fresh session (queue membership to restore) apart."""

    state: LinkState
    session: int
    reason: str | None
    at: float  # on the link's monotonic clock


StateHandler = Callable[[StateChange], Awaitable[None] | None]


@dataclass(slots=True)
class _Counters:
    connect_attempts: int = 0
    connect_failures: int = 0
    login_failures: int = 0
    sessions: int = 0  # successful logins
    disconnects: int = 0
    bytes_received: int = 0
    frames_received: int = 0
    malformed_frames: int = 0
    events_received: int = 0
    events_dispatched: int = 0
    responses_received: int = 0
    unmatched_responses: int = 0  # late (after timeout) or unknown ActionID
    actions_sent: int = 0
    actions_timed_out: int = 0
    actions_lost: int = 0
    ping_failures: int = 0
    internal_errors: int = 0


@dataclass(frozen=True, slots=True)
class LinkStats:
    """A snapshot; ``events_dropped`` is 0 by design (unbounded queues)."""

    state: LinkState
    actions_pending: int  # sent, waiting for their answer
    actions_queued: int  # waiting for a logged-in connection
    events_dropped: int
    subscribers: tuple[SubscriberStats, ...]
    connect_attempts: int
    connect_failures: int
    login_failures: int
    sessions: int
    disconnects: int
    bytes_received: int
    frames_received: int
    malformed_frames: int
    events_received: int
    events_dispatched: int
    responses_received: int
    unmatched_responses: int
    actions_sent: int
    actions_timed_out: int
    actions_lost: int
    ping_failures: int
    internal_errors: int

    @property
    def max_queue_depth(self) -> int:
        return max((s.high_water for s in self.subscribers), default=0)


@dataclass(eq=False, slots=True)
class _Pending:
    action: Action
    timeout: float
    future: asyncio.Future[Response]
    session: _Session | None = None  # set once written to a connection
    internal: bool = False  # Login/Ping/Logoff: not the callers' business
    response: Frame | None = None
    is_list: bool = False  # the response announced events to follow
    events: list[Event] = field(default_factory=list)
    list_done: bool = False

    @property
    def sent(self) -> bool:
        return self.session is not None


@dataclass(eq=False, slots=True)
class _Session:
    """One TCP connection; dies with it."""

    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    parser: FrameParser
    pending: dict[str, _Pending] = field(default_factory=dict)
    logged_in: bool = False
    dead: bool = False  # no more writes: reader ended or abort() called
    reason: str | None = None
    reader_task: asyncio.Task[None] | None = None
    pinger_task: asyncio.Task[None] | None = None

    def abort(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.dead = True
        # abort(), not close(): a half-open socket never flushes, and close()
        # would wait for it.
        self.writer.transport.abort()


def _is_list_end(event: Event) -> bool:
    marker = (event.get("EventList") or "").lower()
    return marker in _LIST_END_MARKERS or event.name.endswith("Complete")


def _should_log(count: int) -> bool:
    # First ten, then powers of two: a garbage-spewing peer cannot flood logs.
    return count <= 10 or count & (count - 1) == 0


class AmiLink:
    """A self-healing, logged-in AMI connection. Use from one event loop."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout: float = 10.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        backoff: Backoff | None = None,
        events: str = "on",
        ssl: ssl_module.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        recorder: StreamRecorder | None = None,
        max_line_length: int = 16 * 1024,
        subscriber_warn_depth: int = 1000,
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._secret = secret
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.connect_timeout = connect_timeout
        self.backoff = backoff or Backoff()
        self._events = events
        self._ssl = ssl
        self._clock = clock
        self._rng = rng or random.Random()
        self._recorder = recorder
        self._max_line_length = max_line_length
        self._warn_depth = subscriber_warn_depth
        self._log = _log.bind(ami=f"{host}:{port}")
        self._state = LinkState.DISCONNECTED
        self._session: _Session | None = None  # only while logged in
        self._outbox: dict[str, _Pending] = {}  # not sent yet, in order
        self._subscriptions: list[Subscription] = []
        self._state_boxes: list[Mailbox[StateChange]] = []
        self._connected = asyncio.Event()
        self._login_error: LoginFailed | None = None
        self._login_rejected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._counters = _Counters()
        self.banner: str | None = None

    # ------------------------------------------------------------------ API

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._session is not None

    async def start(self) -> None:
        """Start connecting in the background; returns at once."""
        if self._closing:
            raise LinkClosed("AmiLink was closed")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"ami-link:{self.host}:{self.port}"
            )

    async def wait_connected(self, timeout: float) -> None:
        """Wait until logged in; ``TimeoutError`` otherwise.

        Raises ``LoginFailed`` as soon as Asterisk rejects the credentials (or
        at once if the last attempt was rejected): a configuration error
        should not look like a network outage. The link itself keeps retrying
        with backoff, as the AMI user may be fixed by a reload on the Asterisk
        side.
        """
        if self._closing:
            raise LinkClosed("AmiLink was closed")
        if self._connected.is_set():
            return
        if self._login_error is not None:
            raise self._login_error
        waiters = {
            asyncio.ensure_future(self._connected.wait()),
            asyncio.ensure_future(self._login_rejected.wait()),
        }
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if not self._connected.is_set() and self._login_error is not None:
            raise self._login_error

    async def close(self, *, drain_timeout: float = 1.0) -> None:
        """Log off, fail whatever is pending with ``LinkClosed``, stop handlers
        (giving them ``drain_timeout`` s to finish queued events)."""
        if self._closing:
            return
        self._closing = True
        await self._logoff()
        self._fail_outbox(LinkClosed("AmiLink closed before the action was sent"))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._set_state(LinkState.CLOSED, "closed")
        boxes = [s.aclose(drain_timeout) for s in list(self._subscriptions)]
        boxes += [b.aclose(drain_timeout) for b in self._state_boxes]
        await asyncio.gather(*boxes)
        self._subscriptions.clear()
        self._state_boxes.clear()

    async def send(
        self,
        action: Action | Mapping[str, HeaderValue],
        *,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send an action and wait for its complete answer.

        Waits for a login first if needed; ``timeout`` (default
        ``action_timeout``) covers that wait too. List actions (QueueStatus,
        Status, CoreShowChannels...) return once their ``...Complete`` event
        arrived, with the events in ``Response.events``. An unsuccessful
        ``Response`` (``ok`` False) is returned, not raised.

        Raises ``ActionTimeout``, ``ActionLost`` (connection dropped while in
        flight; never re-sent) or ``LinkClosed``.
        """
        if self._closing:
            raise LinkClosed("AmiLink is closed")
        action = self._coerce(action, idempotent)
        pending = self._new_pending(action, timeout)
        session = self._session
        if session is not None and not session.dead:
            self._submit(session, pending)
        else:
            self._outbox[action.action_id] = pending
        return await self._await(pending)

    def subscribe(self, handler: EventHandler, *event_names: str) -> Subscription:
        """Call ``handler(event)`` (sync or async) for matching events, in
        order, from the handler's own task. No names, or ``"*"``, means all
        events; ``fnmatch`` globs (``"Queue*"``) are allowed."""
        subscription = Subscription(
            handler,
            event_names,
            warn_depth=self._warn_depth,
            clock=self._clock,
            on_unsubscribe=self._forget_subscription,
        )
        self._subscriptions.append(subscription)
        return subscription

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subscriptions)

    def on_state(self, handler: StateHandler) -> Mailbox[StateChange]:
        """Call ``handler(change)`` on each connected/disconnected change.

        A handler registered while the link is up is told ``CONNECTED`` at
        once, so that it never misses the session it has to set up.
        """
        box: Mailbox[StateChange] = Mailbox(handler, warn_depth=self._warn_depth)
        self._state_boxes.append(box)
        if self._state is LinkState.CONNECTED:
            box.put(self._change(LinkState.CONNECTED, None))
        return box

    @property
    def stats(self) -> LinkStats:
        subscribers = tuple(s.stats for s in self._subscriptions)
        session = self._session
        return LinkStats(
            state=self._state,
            actions_pending=len(session.pending) if session else 0,
            actions_queued=len(self._outbox),
            events_dropped=sum(s.dropped for s in subscribers),
            subscribers=subscribers,
            **asdict(self._counters),
        )

    # ------------------------------------------------------- action plumbing

    @staticmethod
    def _coerce(action: Action | Mapping[str, HeaderValue], idempotent: bool | None) -> Action:
        if isinstance(action, Action):
            if idempotent is None or idempotent == action.idempotent:
                return action
            return Action(action.name, action.headers, action.action_id, idempotent)
        return Action.from_mapping(action, idempotent=idempotent)

    def _new_pending(self, action: Action, timeout: float | None) -> _Pending:
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        return _Pending(action, self.action_timeout if timeout is None else timeout, future)

    def _submit(self, session: _Session, pending: _Pending) -> None:
        pending.session = session
        session.pending[pending.action.action_id] = pending
        session.writer.write(pending.action.encode())
        self._counters.actions_sent += 1

    async def _await(self, pending: _Pending) -> Response:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(pending.timeout, self._expire, pending)
        try:
            return await pending.future
        finally:
            timer.cancel()
            self._forget(pending)

    async def _request(self, session: _Session, action: Action, timeout: float) -> Response:
        """Send on this very connection, bypassing the login queue (Login, Ping)."""
        if session.dead:
            raise ActionLost(action.name, action.action_id, idempotent=True, reason="dead")
        pending = self._new_pending(action, timeout)
        pending.internal = True
        self._submit(session, pending)
        return await self._await(pending)

    def _expire(self, pending: _Pending) -> None:
        if pending.future.done():
            return
        action = pending.action
        if not pending.internal:  # Ping and Login failures have their own logs
            self._counters.actions_timed_out += 1
            self._log.warning(
                "ami.action_timeout",
                action=action.name,
                action_id=action.action_id,
                timeout=pending.timeout,
                sent=pending.sent,
            )
        pending.future.set_exception(
            ActionTimeout(action.name, action.action_id, pending.timeout, sent=pending.sent)
        )

    def _forget(self, pending: _Pending) -> None:
        action_id = pending.action.action_id
        if self._outbox.get(action_id) is pending:
            del self._outbox[action_id]
        session = pending.session
        if session is not None and session.pending.get(action_id) is pending:
            del session.pending[action_id]
        # Events held back for an action that then failed were never handed
        # to anyone: an event is either in a returned Response or goes to the
        # subscribers, never nowhere.
        leftovers, pending.events = pending.events, []
        for event in leftovers:
            self._dispatch(event)

    def _fail_outbox(self, error: AmiError) -> None:
        outbox, self._outbox = self._outbox, {}
        for pending in outbox.values():
            if not pending.future.done():
                pending.future.set_exception(error)

    def _fail_in_flight(self, session: _Session) -> None:
        in_flight, session.pending = session.pending, {}
        reason = session.reason or "connection lost"
        for pending in in_flight.values():
            if pending.future.done():
                continue
            action = pending.action
            error: AmiError
            if pending.internal:
                error = ActionLost(action.name, action.action_id, idempotent=True, reason=reason)
            elif self._closing:
                error = LinkClosed(f"AmiLink closed while {action.name} was in flight")
            else:
                self._counters.actions_lost += 1
                error = ActionLost(
                    action.name, action.action_id, idempotent=action.is_idempotent, reason=reason
                )
                self._log.warning(
                    "ami.action_lost",
                    action=action.name,
                    action_id=action.action_id,
                    idempotent=action.is_idempotent,
                )
            pending.future.set_exception(error)

    def _flush_outbox(self, session: _Session) -> None:
        outbox, self._outbox = self._outbox, {}
        for pending in outbox.values():
            if not pending.future.done():
                self._submit(session, pending)

    # ------------------------------------------------------ connection life

    async def _supervise(self) -> None:
        failures = 0
        first = True
        try:
            while not self._closing:
                if not first:
                    await asyncio.sleep(self.backoff.delay(failures, self._rng))
                first = False
                try:
                    served = await self._serve_once()
                except Exception:
                    # A bug here must cost one reconnect, never the link.
                    self._counters.internal_errors += 1
                    self._log.exception("ami.supervisor_failed")
                    served = False
                failures = 0 if served else failures + 1
        finally:
            self._connected.clear()

    async def _serve_once(self) -> bool:
        """One connection, from connect to its end; False if login never came."""
        session = await self._open_session()
        if session is None:
            return False
        reader = self._task_of(session)
        try:
            await asyncio.wait({reader})
        finally:
            self._end_session(session)
            await asyncio.gather(reader, *self._helpers(session), return_exceptions=True)
        return True

    @staticmethod
    def _task_of(session: _Session) -> asyncio.Task[None]:
        assert session.reader_task is not None
        return session.reader_task

    @staticmethod
    def _helpers(session: _Session) -> list[asyncio.Task[None]]:
        return [session.pinger_task] if session.pinger_task is not None else []

    async def _open_session(self) -> _Session | None:
        self._set_state(LinkState.CONNECTING, None)
        self._counters.connect_attempts += 1
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self._ssl)
        except (OSError, TimeoutError) as exc:
            self._counters.connect_failures += 1
            self._log.warning("ami.connect_failed", error=repr(exc))
            self._set_state(LinkState.DISCONNECTED, "connect failed")
            return None
        parser = FrameParser(max_line_length=self._max_line_length, clock=self._clock)
        session = _Session(self._counters.sessions + 1, reader, writer, parser)
        session.reader_task = asyncio.get_running_loop().create_task(
            self._read_loop(session), name="ami-reader"
        )
        try:
            logged_in = await self._login(session)
        except BaseException:
            await self._discard(session, "cancelled during login")
            raise
        if not logged_in:
            await self._discard(session, "login failed")
            return None
        self._begin_session(session)
        return session

    async def _login(self, session: _Session) -> bool:
        login = Action(
            "Login",
            {"Username": self._username, "Secret": self._secret, "Events": self._events},
        )
        try:
            answer = await self._request(session, login, self.action_timeout)
        except (ActionTimeout, ActionLost) as exc:
            self._counters.login_failures += 1
            self._log.warning("ami.login_no_answer", error=type(exc).__name__)
            return False
        if not answer.ok:
            self._counters.login_failures += 1
            # Message is Asterisk's fixed text ("Authentication failed"); no
            # caller data can be in it.
            self._log.error("ami.login_rejected", message=answer.message, user=self._username)
            self._login_error = LoginFailed(
                f"Asterisk rejected AMI login of {self._username!r}: {answer.message}"
            )
            self._login_rejected.set()
            return False
        self._login_error = None
        self._login_rejected.clear()
        return True

    async def _discard(self, session: _Session, reason: str) -> None:
        session.abort(reason)
        task = self._task_of(session)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._fail_in_flight(session)
        self._set_state(LinkState.DISCONNECTED, reason)

    def _begin_session(self, session: _Session) -> None:
        self._counters.sessions += 1
        session.number = self._counters.sessions
        session.logged_in = True
        self._session = session
        self.banner = session.parser.banner
        self._log.info("ami.connected", session=session.number, version=session.parser.version)
        # Queued actions go out before anyone is told CONNECTED, keeping
        # their order ahead of what state handlers send in reaction.
        self._flush_outbox(session)
        self._connected.set()
        self._set_state(LinkState.CONNECTED, None)
        session.pinger_task = asyncio.get_running_loop().create_task(
            self._ping_loop(session), name="ami-pinger"
        )

    def _end_session(self, session: _Session) -> None:
        session.dead = True
        for task in (session.reader_task, session.pinger_task):
            if task is not None:
                task.cancel()
        session.writer.transport.abort()
        if self._session is session:
            self._session = None
        self._connected.clear()
        self._fail_in_flight(session)
        self._counters.disconnects += 1
        reason = session.reason or "connection lost"
        if self._closing:
            self._log.info("ami.disconnected", session=session.number, reason=reason)
        else:
            self._log.warning("ami.disconnected", session=session.number, reason=reason)
            self._set_state(LinkState.DISCONNECTED, reason)

    async def _logoff(self) -> None:
        session = self._session
        if session is None or session.dead:
            return
        with contextlib.suppress(AmiError):
            await self._request(session, Action("Logoff"), min(1.0, self.action_timeout))
        session.reason = session.reason or "closed"

    async def _ping_loop(self, session: _Session) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            if session.dead:
                return
            try:
                await self._request(session, Action("Ping"), self.ping_timeout)
            except ActionTimeout:
                self._counters.ping_failures += 1
                self._log.warning("ami.ping_timeout", timeout=self.ping_timeout)
                session.abort("no answer to Ping")
                self._task_of(session).cancel()
                return
            except AmiError:
                return

    # ------------------------------------------------------------- reading

    async def _read_loop(self, session: _Session) -> None:
        try:
            while True:
                data = await session.reader.read(_READ_SIZE)
                if not data:
                    session.reason = session.reason or "closed by Asterisk"
                    break
                self._on_bytes(session, data)
            for frame in session.parser.feed_eof():
                self._on_frame(session, frame)
        except (OSError, EOFError) as exc:
            session.reason = session.reason or f"read error: {exc!r}"
        except Exception:
            # A bug in parsing must cost a reconnect, not the link.
            self._counters.internal_errors += 1
            self._log.exception("ami.reader_failed")
            session.reason = session.reason or "reader failed"
        finally:
            session.dead = True

    def _on_bytes(self, session: _Session, data: bytes) -> None:
        self._counters.bytes_received += len(data)
        if self._recorder is not None:
            self._record(data)
        for frame in session.parser.feed(data):
            self._on_frame(session, frame)

    def _record(self, data: bytes) -> None:
        assert self._recorder is not None
        try:
            self._recorder.record(data)
        except OSError:
            # A debugging aid (disk full...) must not take the link down.
            self._log.exception("ami.recording_failed")
            self._recorder = None

    def _on_frame(self, session: _Session, frame: Frame) -> None:
        # Whatever a frame contains, the reader must survive it.
        try:
            self._route(session, frame)
        except Exception:
            self._counters.internal_errors += 1
            self._log.exception("ami.frame_handling_failed", frame=repr(frame))

    def _route(self, session: _Session, frame: Frame) -> None:
        self._counters.frames_received += 1
        kind = frame.kind
        if frame.malformed or kind == "unknown":
            self._note_malformed(frame)
        if "truncated_at_eof" in frame.problems:
            return  # the rest of it died with the connection; don't act on half
        if kind == "response":
            self._on_response(session, frame)
        elif kind == "event":
            self._on_event(session, Event.from_frame(frame))

    def _note_malformed(self, frame: Frame) -> None:
        self._counters.malformed_frames += 1
        count = self._counters.malformed_frames
        if _should_log(count):
            # repr(frame) lists header names only, never values (privacy).
            self._log.warning(
                "ami.malformed_frame",
                frame=repr(frame),
                size=len(frame.raw),
                count=count,
            )

    def _on_response(self, session: _Session, frame: Frame) -> None:
        self._counters.responses_received += 1
        action_id = frame.get("ActionID")
        pending = session.pending.get(action_id) if action_id else None
        if pending is None:
            self._counters.unmatched_responses += 1
            self._log.debug("ami.unmatched_response", action_id=action_id)
            return
        pending.response = frame
        answer = Response.from_frame(frame)
        pending.is_list = answer.ok and answer.is_list_start
        if pending.is_list and not pending.list_done:
            return  # the events, then a ...Complete event, follow
        self._complete(session, pending)

    def _on_event(self, session: _Session, event: Event) -> None:
        self._counters.events_received += 1
        action_id = event.action_id
        pending = session.pending.get(action_id) if action_id else None
        # Events of a list action belong to its Response. Before the response
        # is in, it is not yet known whether the action is a list: keep them
        # and hand them to subscribers later if it is not.
        if pending is not None and (pending.response is None or pending.is_list):
            pending.events.append(event)
            if _is_list_end(event):
                pending.list_done = True
                if pending.response is not None:
                    self._complete(session, pending)
            return
        self._dispatch(event)

    def _complete(self, session: _Session, pending: _Pending) -> None:
        session.pending.pop(pending.action.action_id, None)
        assert pending.response is not None
        listed = pending.is_list
        events, pending.events = pending.events, []
        answer = Response.from_frame(pending.response, events if listed else ())
        if not listed:
            for event in events:
                self._dispatch(event)
        if not pending.future.done():
            pending.future.set_result(answer)

    def _dispatch(self, event: Event) -> None:
        self._counters.events_dispatched += 1
        for subscription in self._subscriptions:
            if subscription.matches(event.name):
                subscription.deliver(event)

    # --------------------------------------------------------------- state

    def _change(self, state: LinkState, reason: str | None) -> StateChange:
        return StateChange(state, self._counters.sessions, reason, self._clock())

    def _set_state(self, state: LinkState, reason: str | None) -> None:
        previous, self._state = self._state, state
        # Handlers only hear about the link going up or down, not about each
        # failed attempt while it is down.
        went_up = state is LinkState.CONNECTED
        went_down = previous is LinkState.CONNECTED and state is not LinkState.CONNECTED
        if not (went_up or went_down):
            return
        told = state if went_up else LinkState.DISCONNECTED
        change = self._change(told, reason)
        for box in self._state_boxes:
            box.put(change)

    def _forget_subscription(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)
