"""Asterisk's own records of calls, read back: CEL and CDR (SQLite files) and queue_log (text).

The reconciler rebuilds calls the controller missed from them; the cross-check tests compare the
controller's records with them. Paths and columns are those of the rendered configuration
(dialplans/templates/cel_sqlite3_custom.conf, cdr_sqlite3_custom.conf, logger.conf).
Asterisk writes local times (its TZ is the centre's), so times are read in that zone.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Final

from settings import Settings

# File names in the instance's log folder (cdr_sqlite3_custom/cel_sqlite3_custom add ".db").
CEL_FILE: Final = "cel.db"
CDR_FILE: Final = "cdr.db"
QUEUE_LOG_FILE: Final = "queue_log"
DEFAULT_INSTANCE: Final = "default"

CEL_COLUMNS: Final = (
    "eventtype",
    "eventtime",
    "cidnum",
    "exten",
    "context",
    "channame",
    "appname",
    "appdata",
    "uniqueid",
    "linkedid",
    "peer",
    "userdeftype",
    "eventextra",
)


def records_dir(settings: Settings) -> Path:
    """The folder of Asterisk's records: [asterisk] records_dir, else that of the instance
    `python -m controller` starts (sandbox chroot, or the state dir with a system Asterisk)."""
    a = settings.asterisk
    if a.records_dir:
        return Path(a.records_dir)
    if a.mode == "system" or (a.mode == "auto" and shutil.which("asterisk")):
        return settings.runtime_dir / "asterisk" / DEFAULT_INSTANCE / "log"
    from sandbox.provision import CHROOT_INSTANCES  # only here: the sandbox pulls in rendering

    inside = CHROOT_INSTANCES.relative_to("/") / DEFAULT_INSTANCE / "log"
    return a.sandbox_dir / inside


def parse_local_time(text: str, tz: tzinfo) -> datetime | None:
    """ "2024-11-25 14:03:05[.123456]" in `tz`, or epoch seconds → aware UTC datetime."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    # Asterisk keeps writing while we read: open read-only, wait rather than fail on its lock.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    with closing(conn):
        yield conn


@dataclass(frozen=True, slots=True)
class CelRow:
    rowid: int
    eventtype: str
    at: datetime
    cidnum: str
    exten: str
    context: str
    channame: str
    appname: str
    appdata: str
    uniqueid: str
    linkedid: str
    peer: str
    userdeftype: str
    extra: str


class CelReader:
    """Rows of Asterisk's CEL table (one per channel event), by rowid."""

    def __init__(self, path: Path, tz: tzinfo) -> None:
        self.path = path
        self._tz = tz

    @property
    def source(self) -> str:
        return f"cel:{self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def last_rowid(self) -> int:
        with _read_only(self.path) as conn:
            return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM cel").fetchone()[0])

    def rows_after(self, rowid: int) -> list[CelRow]:
        query = f"SELECT rowid, {', '.join(CEL_COLUMNS)} FROM cel WHERE rowid > ? ORDER BY rowid"
        with _read_only(self.path) as conn:
            return [self._row(r) for r in conn.execute(query, (rowid,))]

    def _row(self, r: Sequence[object]) -> CelRow:
        text = ["" if v is None else str(v) for v in r[1:]]
        values = dict(zip(CEL_COLUMNS, text, strict=True))
        return CelRow(
            rowid=int(str(r[0])),
            eventtype=values["eventtype"],
            at=parse_local_time(values["eventtime"], self._tz) or datetime.now(UTC),
            cidnum=values["cidnum"],
            exten=values["exten"],
            context=values["context"],
            channame=values["channame"],
            appname=values["appname"],
            appdata=values["appdata"],
            uniqueid=values["uniqueid"],
            linkedid=values["linkedid"],
            peer=values["peer"],
            userdeftype=values["userdeftype"],
            extra=values["eventextra"],
        )


@dataclass(frozen=True, slots=True)
class QueueLogLine:
    offset: int  # byte offset of the line in the file (the reconciler's watermark)
    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def field(self, index: int) -> str:
        """data1 is field(1), as Asterisk's documentation numbers them."""
        return self.data[index - 1] if 0 < index <= len(self.data) else ""


class QueueLogReader:
    """Lines of Asterisk's queue_log: time|callid|queue|agent|event|data1|data2|..."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def source(self) -> str:
        return f"queue_log:{self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def lines_from(self, offset: int) -> tuple[list[QueueLogLine], int]:
        """Complete lines from `offset`, and the offset after the last complete one."""
        if not self.path.exists():
            return [], 0
        lines: list[QueueLogLine] = []
        with self.path.open("rb") as fh:
            fh.seek(offset)
            position = offset
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # Asterisk is still writing this one
                parsed = _queue_line(position, raw.decode("utf-8", "replace").rstrip("\r\n"))
                if parsed is not None:
                    lines.append(parsed)
                position += len(raw)
        return lines, position


def _queue_line(offset: int, text: str) -> QueueLogLine | None:
    parts = text.split("|")
    if len(parts) < 5:
        return None
    try:
        at = datetime.fromtimestamp(float(parts[0]), UTC)
    except ValueError:
        return None
    return QueueLogLine(offset, at, parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))


@dataclass(frozen=True, slots=True)
class CdrRow:
    start: datetime | None
    answer: datetime | None
    end: datetime | None
    src: str
    dst: str
    channel: str
    dstchannel: str
    lastapp: str
    duration: int
    billsec: int
    disposition: str
    uniqueid: str
    linkedid: str


class CdrReader:
    """Asterisk's CDRs (one per channel pair): the cross-check's independent call count."""

    COLUMNS: Final = (
        "calldate",
        "answerdate",
        "enddate",
        "src",
        "dst",
        "channel",
        "dstchannel",
        "lastapp",
        "duration",
        "billsec",
        "disposition",
        "uniqueid",
        "linkedid",
    )

    def __init__(self, path: Path, tz: tzinfo) -> None:
        self.path = path
        self._tz = tz

    def rows(self) -> list[CdrRow]:
        query = f"SELECT {', '.join(self.COLUMNS)} FROM cdr ORDER BY rowid"
        with _read_only(self.path) as conn:
            return [self._row(r) for r in conn.execute(query)]

    def _row(self, r: Sequence[object]) -> CdrRow:
        v = ["" if x is None else str(x) for x in r]
        return CdrRow(
            start=parse_local_time(v[0], self._tz),
            answer=parse_local_time(v[1], self._tz),
            end=parse_local_time(v[2], self._tz),
            src=v[3],
            dst=v[4],
            channel=v[5],
            dstchannel=v[6],
            lastapp=v[7],
            duration=_int(v[8]),
            billsec=_int(v[9]),
            disposition=v[10],
            uniqueid=v[11],
            linkedid=v[12],
        )


def _int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0
