"""Retention: call recordings, callback messages and call records are kept for a period each
(settings [recordings]), then removed — files and rows — by a daily job or by hand.

    python -m recordings.retention purge [--dry-run]

A dry run lists exactly what a real run would remove and removes nothing. Only ids are printed
and logged (media ids, call linkedids), never a caller's number. Each run is one audit entry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import structlog
from sqlalchemy import delete, or_, select

from call_log.models import CallRow, CallStepRow
from recordings.models import MediaKind, MediaRow
from settings.loader import RecordingSettings
from storage import Database, audit

if TYPE_CHECKING:
    from recordings.asterisk_paths import AsteriskPaths

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
CALL_RECORD: Final = "call_record"
ACTOR: Final = "retention"
_BATCH: Final = 500


@dataclass(frozen=True)
class RetentionPolicy:
    recordings: timedelta
    callback_messages: timedelta
    call_records: timedelta

    @classmethod
    def from_settings(cls, s: RecordingSettings) -> RetentionPolicy:
        return cls(timedelta(days=s.retention_recordings_days),
                   timedelta(days=s.retention_callback_messages_days),
                   timedelta(days=s.retention_call_records_days))

    def period(self, kind: MediaKind) -> timedelta:
        return self.recordings if kind is MediaKind.CALL_RECORDING else self.callback_messages

    def as_json(self) -> dict[str, int]:
        return {"call_recording": self.recordings.days,
                "callback_message": self.callback_messages.days,
                CALL_RECORD: self.call_records.days}


@dataclass(frozen=True)
class Expired:
    """One thing past its period: a media file (`id` = media id) or a call record."""

    kind: str
    id: str
    linkedid: str
    archive_path: str | None = None
    source_path: str | None = None


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    at: datetime
    items: tuple[Expired, ...]
    files_removed: int = 0

    def counts(self) -> dict[str, int]:
        counts = {kind.value: 0 for kind in MediaKind} | {CALL_RECORD: 0}
        for item in self.items:
            counts[item.kind] += 1
        return counts

    def ids(self, kind: str) -> list[str]:
        return [item.id for item in self.items if item.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "at": self.at.isoformat(), "counts": self.counts(),
            "files_removed": self.files_removed,
            "ids": {kind: self.ids(kind) for kind in self.counts()},
        }


class PurgeExpired:
    """Removes what is past its retention period; with `dry_run`, only says what it would."""

    def __init__(
        self, db: Database, policy: RetentionPolicy, paths: AsteriskPaths, archive_dir: Path,
        clock: Clock,
    ) -> None:
        self._db = db
        self._policy = policy
        self._paths = paths
        self._archive_dir = archive_dir
        self._clock = clock

    async def execute(self, *, dry_run: bool, actor: str = ACTOR) -> PurgeReport:
        now = self._clock()
        items = await self._plan(now)
        if dry_run:
            report = PurgeReport(True, now, items)
        else:
            files = self._remove_files(items)
            await self._remove_rows(items, actor, now, files)
            report = PurgeReport(False, now, items, files)
        log.info("retention.purged", dry_run=dry_run, files=report.files_removed,
                 **report.counts())
        return report

    # --- what is past its period ---------------------------------------------------------

    async def _plan(self, now: datetime) -> tuple[Expired, ...]:
        p = self._policy
        async with self._db.session() as session:
            calls = (await session.execute(
                select(CallRow.linkedid).where(CallRow.received_at < now - p.call_records)
            )).scalars().all()
            expired_media = or_(
                *(
                    (MediaRow.kind == kind.value) & (MediaRow.recorded_at < now - p.period(kind))
                    for kind in MediaKind
                ),
                MediaRow.recorded_at < now - p.call_records,  # its call record goes too
            )
            media = (await session.execute(
                select(MediaRow).where(expired_media).order_by(MediaRow.recorded_at)
            )).scalars().all()
        return (
            *(Expired(m.kind, m.id, m.linkedid, m.archive_path, m.source_path) for m in media),
            *(Expired(CALL_RECORD, linkedid, linkedid) for linkedid in calls),
        )

    # --- removal ---------------------------------------------------------------------------

    def _remove_files(self, items: Iterable[Expired]) -> int:
        removed = 0
        for item in items:
            for path in self._files(item):
                if path.is_file():
                    path.unlink()
                    removed += 1
                    self._prune_empty_days(path.parent)
            log.info("retention.removed", kind=item.kind, id=item.id, linkedid=item.linkedid)
        return removed

    def _files(self, item: Expired) -> list[Path]:
        files = []
        if item.archive_path:
            files.append(self._archive_dir / item.archive_path)
        if item.source_path:
            with contextlib.suppress(ValueError):  # a relative name was never a file of ours
                files.append(self._paths.host_path(item.source_path))
        return files

    def _prune_empty_days(self, folder: Path) -> None:
        """Remove day/month/year folders of the archive that the purge left empty."""
        root = self._archive_dir.resolve()
        folder = folder.resolve()
        while folder != root and root in folder.parents and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    async def _remove_rows(
        self, items: Sequence[Expired], actor: str, now: datetime, files: int
    ) -> None:
        media = [i.id for i in items if i.kind != CALL_RECORD]
        calls = [i.id for i in items if i.kind == CALL_RECORD]
        async with self._db.session() as session:
            for batch in _batches(media):
                await session.execute(delete(MediaRow).where(MediaRow.id.in_(batch)))
            for batch in _batches(calls):
                await session.execute(delete(CallStepRow).where(CallStepRow.linkedid.in_(batch)))
                await session.execute(delete(CallRow).where(CallRow.linkedid.in_(batch)))
            report = PurgeReport(False, now, tuple(items), files)
            await audit.record(session, actor, "retention_purge", "retention", now.isoformat(),
                               after={"counts": report.counts(), "files_removed": files,
                                      "policy_days": self._policy.as_json()})


def _batches(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _BATCH):
        yield list(ids[start : start + _BATCH])


class PurgeLoop:
    """Runs the purge once a day at `at` (the centre's local time)."""

    def __init__(
        self, purge: PurgeExpired, at: time, tz: tzinfo, clock: Clock,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._purge = purge
        self._at = at
        self._tz = tz
        self._clock = clock
        self._sleep = sleep

    def next_run(self, now: datetime) -> datetime:
        local = now.astimezone(self._tz)
        run = datetime.combine(local.date(), self._at, self._tz)
        if run <= local:
            run = datetime.combine(local.date() + timedelta(days=1), self._at, self._tz)
        return run.astimezone(UTC)

    async def run(self) -> None:
        while True:
            now = self._clock()
            await self._sleep((self.next_run(now) - now).total_seconds())
            try:
                await self._purge.execute(dry_run=False)
            except Exception:  # a failed purge must not end the loop: tomorrow tries again
                log.exception("retention.purge_failed")


def parse_clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


# --- command line ----------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recordings.retention",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    purge = sub.add_parser("purge", help="remove what is past its retention period")
    purge.add_argument("--dry-run", action="store_true", help="list it, remove nothing")
    return parser


def render(report: PurgeReport) -> str:
    verb = "would remove" if report.dry_run else "removed"
    counts = report.counts()
    lines = [f"{'dry run: ' if report.dry_run else ''}{verb} "
             + ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in counts.items())
             + ("" if report.dry_run else f"; {report.files_removed} file(s) deleted")]
    for kind, n in counts.items():
        if n:
            lines.append(f"  {kind}: {' '.join(report.ids(kind))}")
    return "\n".join(lines)


async def _purge(dry_run: bool) -> PurgeReport:
    from recordings.asterisk_paths import AsteriskPaths
    from settings import load_settings
    from storage import upgrade_to_head

    settings = load_settings()
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    try:
        purge = PurgeExpired(
            db, RetentionPolicy.from_settings(settings.recordings),
            AsteriskPaths.from_settings(settings), settings.recordings.archive_dir,
            lambda: datetime.now(UTC),
        )
        return await purge.execute(dry_run=dry_run, actor="retention-cli")
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from controller.logs import configure

    configure()
    report = asyncio.run(_purge(args.dry_run))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
