"""A tiny asyncio AMI client for tests, benchmarks and sandbox tooling.

The controller uses ``ami.AmiLink`` (reconnects, deadlines, per-subscriber queues). This one
does only what tooling needs: log in, send an action, collect a list's events, watch events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Self

Message = dict[str, str]


class AmiClientError(Exception):
    """Login refused, connection lost, or no answer in time."""


class MiniAmi:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._lists: dict[str, list[Message]] = {}
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self._reader_task: asyncio.Task[None] | None = None
        self.banner = ""

    @classmethod
    async def connect(
        cls, host: str, port: int, username: str, secret: str, *, timeout: float = 5.0,
        events: str = "on",
    ) -> Self:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        client = cls(reader, writer)
        client.banner = (await asyncio.wait_for(reader.readline(), timeout)).decode().strip()
        client._reader_task = asyncio.create_task(client._read_loop())
        answer = await client.action(
            "Login", Username=username, Secret=secret, Events=events, timeout=timeout
        )
        if answer.get("Response") != "Success":
            await client.close()
            raise AmiClientError(f"AMI login as {username} refused: {answer.get('Message')}")
        return client

    async def action(self, name: str, *, timeout: float = 10.0, **headers: str) -> Message:
        """Send an action; return its response (list events are in ``self.last_list``)."""
        action_id = f"mini-{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AmiClientError(f"AMI action {name} got no answer in {timeout} s") from None
        finally:
            self._pending.pop(action_id, None)

    async def list_action(
        self, name: str, *, timeout: float = 10.0, **headers: str
    ) -> list[Message]:
        """An action answered by a list of events ending in ``...Complete``; returns them."""
        action_id = f"mini-{next(self._ids)}"
        done: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = done
        self._lists[action_id] = []
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self._writer.drain()
        try:
            await asyncio.wait_for(done, timeout)
            return self._lists[action_id]
        except TimeoutError:
            raise AmiClientError(f"AMI list {name} not complete in {timeout} s") from None
        finally:
            self._pending.pop(action_id, None)
            self._lists.pop(action_id, None)

    async def wait_event(
        self, match: Callable[[Message], bool], timeout: float = 10.0
    ) -> Message:
        """The next event (from now on, in order) for which ``match`` is true."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if match(event):
                    return event

    def drain_events(self) -> list[Message]:
        drained = []
        while not self.events.empty():
            drained.append(self.events.get_nowait())
        return drained

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.write(b"Action: Logoff\r\n\r\n")
            await asyncio.wait_for(self._writer.drain(), 1.0)
        if self._reader_task:
            self._reader_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reader_task
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    @property
    def closed(self) -> bool:
        return self._reader_task is None or self._reader_task.done()

    async def _read_loop(self) -> None:
        message: Message = {}
        try:
            while line := await self._reader.readline():
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                if text:
                    key, _, value = text.partition(":")
                    key, value = key.strip(), value.strip()
                    # Repeated headers (a Command's Output lines) are kept, one per line.
                    message[key] = f"{message[key]}\n{value}" if key in message else value
                    continue
                if message:
                    self._route(message)
                message = {}
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(AmiClientError("AMI connection closed"))

    def _route(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        if "Event" in message and action_id in self._lists:
            if message["Event"].endswith("Complete"):
                self._resolve(action_id, message)
            else:
                self._lists[action_id].append(message)
            return
        if "Response" in message and action_id in self._pending:
            if action_id in self._lists and message.get("Response") == "Success":
                return  # the list follows; resolved by its Complete event
            self._resolve(action_id, message)
            return
        if "Event" in message:
            self.events.put_nowait(message)

    def _resolve(self, action_id: str, message: Message) -> None:
        future = self._pending.get(action_id)
        if future is not None and not future.done():
            future.set_result(message)
