"""Record an AMI byte stream to a fixture file and replay it in tests.

The fixture keeps the exact bytes and read boundaries (a Thai character split
across two reads stays split), which is what made panoramisk's per-read
decoding lose characters; so a replay reproduces such bugs faithfully.

File format: JSON lines, one per chunk,
``{"at": <seconds since start>, "dir": "in"|"out", "b64": <base64 bytes>}``.

Privacy: a recording of a live system holds callers' numbers and names.
Only record on test systems, or anonymise before committing a fixture. The
link records inbound bytes only: outbound bytes include the AMI secret.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

from .frames import Frame, FrameParser

__all__ = [
    "Chunk",
    "StreamRecorder",
    "chunks_from_bytes",
    "load_recording",
    "replay_into_parser",
    "replay_to_writer",
    "save_recording",
]

Direction = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class Chunk:
    at: float  # seconds since the recording started
    data: bytes
    direction: Direction = "in"

    def to_json(self) -> str:
        payload: dict[str, object] = {
            "at": round(self.at, 6),
            "dir": self.direction,
            "b64": base64.b64encode(self.data).decode("ascii"),
        }
        return json.dumps(payload, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Chunk:
        payload = json.loads(line)
        direction: Direction = "out" if payload.get("dir") == "out" else "in"
        return cls(float(payload["at"]), base64.b64decode(payload["b64"]), direction)


class StreamRecorder:
    """Appends chunks to a fixture file as they are read.

    Writes are synchronous and flushed per chunk so that a crash keeps what
    led to it; this is a debugging tool, not for permanent production use.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self._clock = clock
        self._start: float | None = None
        self._file: IO[str] | None = self.path.open("w", encoding="ascii")

    def record(self, data: bytes, direction: Direction = "in") -> None:
        if self._file is None or not data:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        self._file.write(Chunk(now - self._start, data, direction).to_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> StreamRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def save_recording(path: str | Path, chunks: Iterable[Chunk]) -> None:
    with Path(path).open("w", encoding="ascii") as out:
        for chunk in chunks:
            out.write(chunk.to_json() + "\n")


def load_recording(path: str | Path, direction: Direction | None = "in") -> list[Chunk]:
    """Chunks of a fixture file; ``direction=None`` keeps both directions."""
    chunks: list[Chunk] = []
    with Path(path).open(encoding="ascii") as src:
        for line in src:
            if line.strip():
                chunk = Chunk.from_json(line)
                if direction is None or chunk.direction == direction:
                    chunks.append(chunk)
    return chunks


def chunks_from_bytes(data: bytes, cuts: Iterable[int], *, step: float = 0.0) -> list[Chunk]:
    """Split ``data`` at the given byte offsets, e.g. to build a fixture where
    a multi-byte character straddles two reads."""
    return [
        Chunk(index * step, piece) for index, piece in enumerate(_split(data, sorted(set(cuts))))
    ]


def _split(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    start = 0
    for cut in cuts:
        if 0 < cut < len(data) and cut > start:
            yield data[start:cut]
            start = cut
    yield data[start:]


def replay_into_parser(chunks: Iterable[Chunk], parser: FrameParser | None = None) -> list[Frame]:
    """Feed inbound chunks, read boundaries kept, then end of stream."""
    parser = parser or FrameParser()
    frames: list[Frame] = []
    for chunk in chunks:
        if chunk.direction == "in":
            frames.extend(parser.feed(chunk.data))
    frames.extend(parser.feed_eof())
    return frames


async def replay_to_writer(
    chunks: Iterable[Chunk], writer: asyncio.StreamWriter, *, speed: float | None = None
) -> None:
    """Write inbound chunks to a client, as a fake server would.

    ``speed=None`` sends without delay (the fast default for unit tests);
    otherwise the recorded gaps are kept, divided by ``speed``. Each chunk is
    drained before the next one so that read boundaries are kept as far as
    TCP allows.
    """
    previous: float | None = None
    for chunk in chunks:
        if chunk.direction != "in":
            continue
        if speed is not None and previous is not None and chunk.at > previous:
            await asyncio.sleep((chunk.at - previous) / speed)
        previous = chunk.at
        writer.write(chunk.data)
        await writer.drain()
