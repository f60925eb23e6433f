"""A tiny in-process AMI server for unit tests.

It speaks enough of Asterisk's manager protocol for the link: the banner,
Login (refusing other actions before it, as Asterisk does), Ping, a list
action (QueueStatus), Logoff, and a generic Success for anything else. Tests
can hold actions unanswered, stop answering pings, drop or refuse
connections, push events or raw bytes, and replay recorded streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ami import AmiLink
from ami.frames import Frame, FrameParser
from ami.recording import Chunk, replay_to_writer

EOL = "\r\n"
BANNER = "Asterisk Call Manager/9.0.0"

Reply = Callable[[Frame], Iterable[bytes]]
LinkFactory = Callable[..., AmiLink]  # the make_link fixture (conftest.py)


def encode(pairs: Iterable[tuple[str, str]]) -> bytes:
    return (EOL.join(f"{k}: {v}" for k, v in pairs) + EOL + EOL).encode("utf-8")


def response(action_id: str | None, status: str = "Success", **headers: str) -> bytes:
    pairs = [("Response", status)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    pairs.extend(headers.items())
    return encode(pairs)


def event(name: str, headers: Mapping[str, str] | None = None, **more: str) -> bytes:
    return encode([("Event", name), *(headers or {}).items(), *more.items()])


@dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class FakeAmi:
    def __init__(self, *, username: str = "ctl", secret: str = "s3cret") -> None:
        self.username = username
        self.secret = secret
        self.host = "127.0.0.1"
        self.port = 0
        self.received: list[Frame] = []
        self.hold: set[str] = set()  # lower-case action names left unanswered
        self.answer_pings = True
        self.login_delay = 0.0
        self.replies: dict[str, Reply] = {}  # lower-case action name -> frames to send
        self.connections = 0
        self.connect_times: list[float] = []
        self.queue_members = ("PJSIP/agent1", "PJSIP/agent2")
        self._clients: list[_Client] = []
        self._server: asyncio.Server | None = None

    # -- lifecycle

    async def start(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening (connects are refused) and drop every client."""
        if self._server is not None:
            self._server.close()
            self.drop()
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        """Cut every client connection at once, like a crashed Asterisk."""
        for client in list(self._clients):
            client.writer.transport.abort()

    # -- inspection

    def actions(self, name: str) -> list[Frame]:
        return [f for f in self.received if (f.get("Action") or "").lower() == name.lower()]

    def count(self, name: str) -> int:
        return len(self.actions(name))

    async def wait_for(self, name: str, count: int = 1, timeout: float = 2.0) -> Frame:
        async with asyncio.timeout(timeout):
            while self.count(name) < count:
                await asyncio.sleep(0.005)
        return self.actions(name)[count - 1]

    @property
    def clients(self) -> int:
        return len(self._clients)

    # -- pushing data to clients

    def emit(self, name: str, headers: Mapping[str, str] | None = None, **more: str) -> None:
        self.send_raw(event(name, headers, **more))

    def send_raw(self, data: bytes) -> None:
        for client in self._logged_in():
            client.send(data)

    async def send_chunks(self, chunks: Iterable[bytes], gap: float = 0.002) -> None:
        """Write pieces separately, pausing so the client sees separate reads."""
        for piece in chunks:
            for client in self._logged_in():
                client.send(piece)
                await client.writer.drain()
            await asyncio.sleep(gap)

    async def replay(self, chunks: Iterable[Chunk], speed: float | None = None) -> None:
        items = list(chunks)
        for client in self._logged_in():
            await replay_to_writer(items, client.writer, speed=speed)

    def _logged_in(self) -> list[_Client]:
        return [c for c in self._clients if c.logged_in]

    # -- protocol

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.append(client)
        self.connections += 1
        self.connect_times.append(asyncio.get_running_loop().time())
        writer.write(f"{BANNER}{EOL}".encode())
        parser = FrameParser(expect_banner=False)
        try:
            while data := await reader.read(65536):
                for frame in parser.feed(data):
                    await self._on_action(client, frame)
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.remove(client)
            writer.transport.abort()

    async def _on_action(self, client: _Client, frame: Frame) -> None:
        self.received.append(frame)
        name = (frame.get("Action") or "").lower()
        action_id = frame.get("ActionID")
        if name == "login":
            await self._login(client, frame, action_id)
        elif not client.logged_in:
            client.send(response(action_id, "Error", Message="Permission denied"))
        elif name in self.hold or (name == "ping" and not self.answer_pings):
            return
        elif name in self.replies:
            for data in self.replies[name](frame):
                client.send(data)
        elif name == "ping":
            client.send(response(action_id, Ping="Pong", Timestamp="1700000000.000000"))
        elif name == "queuestatus":
            client.send(self._queue_status(action_id))
        elif name == "logoff":
            client.send(response(action_id, "Goodbye", Message="Thanks for all the fish."))
            with contextlib.suppress(ConnectionError):
                await client.writer.drain()
            client.writer.close()
        else:
            client.send(response(action_id, Message="OK"))

    async def _login(self, client: _Client, frame: Frame, action_id: str | None) -> None:
        if self.login_delay:
            await asyncio.sleep(self.login_delay)
        if frame.get("Username") != self.username or frame.get("Secret") != self.secret:
            client.send(response(action_id, "Error", Message="Authentication failed"))
            return
        client.logged_in = True
        client.send(response(action_id, Message="Authentication accepted"))
        client.send(event("FullyBooted", Privilege="system,all", Status="Fully Booted"))

    def _queue_status(self, action_id: str | None) -> bytes:
        aid = action_id or ""
        parts = [
            response(action_id, EventList="start", Message="Queue status will follow"),
            event("QueueParams", Queue="1300", Max="0", Calls="1", ActionID=aid),
        ]
        for member in self.queue_members:
            parts.append(event("QueueMember", Queue="1300", Location=member, ActionID=aid))
        parts.append(
            event(
                "QueueEntry",
                Queue="1300",
                Position="1",
                CallerIDNum="+66812345678",
                CallerIDName="สมชาย ใจดี",
                ActionID=aid,
            )
        )
        parts.append(
            event(
                "QueueStatusComplete",
                EventList="Complete",
                ListItems=str(len(self.queue_members) + 2),
                ActionID=aid,
            )
        )
        return b"".join(parts)
