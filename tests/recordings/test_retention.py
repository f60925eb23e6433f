"""The retention purge of media and call records removes exactly what is past its period — files
and rows — and a dry run removes nothing and reports the same list. The other kinds of personal
data: tests/retention."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from call_log.models import CallRow, CallStepRow
from recordings.models import MediaRow
from retention.__main__ import render
from retention.install import build_retention_room
from retention.loop import PurgeLoop
from retention.policy import Kind
from retention.purge import PurgeExpired
from settings import repo_root
from storage import audit
from tests.recordings.conftest import (
    EPOCH,
    MESSAGES,
    MONITOR,
    Media,
    answered_recorded_call,
    call_script,
    callback_request,
    tone,
)

DAY = 86_400.0
CALL_RECORD = Kind.CALL_RECORD.value


def purge(media: Media) -> PurgeExpired:
    """The purge as the app builds it (the retention room), on the media room's database,
    folders and clock."""
    return build_retention_room(media.settings, media.db, media.paths, media.clock).services.purge


@dataclass
class Made:
    linkedid: str
    files: list[Path]


async def recorded_call(media: Media, n: int, days_ago: float) -> Made:
    s = call_script(n, at=EPOCH - days_ago * DAY)
    day = datetime.fromtimestamp(s.start, UTC)
    ast_path = f"{MONITOR}/{day:%Y/%m/%d}/{s.linkedid}.wav"
    tone(media.host(ast_path), 1.0)
    await media.replay(answered_recorded_call(s, ast_path, talk=5))
    return Made(s.linkedid, [])


async def message_call(media: Media, n: int, days_ago: float) -> Made:
    s = call_script(n, at=EPOCH - days_ago * DAY, caller="+85512345678")
    day = datetime.fromtimestamp(s.start, UTC)
    ast_path = f"{MESSAGES}/{day:%Y/%m/%d}/{s.linkedid}.wav"
    tone(media.host(ast_path), 1.0)
    await media.replay(callback_request(s, ast_path, lang="km"))
    return Made(s.linkedid, [])


async def inventory(media: Media) -> tuple[set[str], set[str], int, set[Path]]:
    async with media.db.session() as s:
        media_ids = set((await s.execute(select(MediaRow.id))).scalars())
        calls = set((await s.execute(select(CallRow.linkedid))).scalars())
        steps = int(await s.scalar(select(func.count()).select_from(CallStepRow)) or 0)
    files = {p for p in media.archive_dir.rglob("*") if p.is_file()}
    return media_ids, calls, steps, files


async def ids_by_linkedid(media: Media) -> dict[str, str]:
    async with media.db.session() as s:
        return {r.linkedid: r.id for r in (await s.execute(select(MediaRow))).scalars()}


async def test_purge_removes_exactly_what_is_past_its_period(media: Media) -> None:
    # Periods: recordings 90 days, callback messages 365, call records 1825 (config).
    old_recording = await recorded_call(media, 1, days_ago=100)
    young_recording = await recorded_call(media, 2, days_ago=80)
    old_message = await message_call(media, 3, days_ago=400)
    young_message = await message_call(media, 4, days_ago=300)
    media.clock.now = datetime.fromtimestamp(EPOCH - 79 * DAY, UTC)
    await media.process()  # archived while all were young
    ancient = await recorded_call(media, 5, days_ago=1900)  # a call record past 5 years
    media.clock.now = datetime.fromtimestamp(EPOCH + 3600, UTC)
    by_linkedid = await ids_by_linkedid(media)
    assert set(by_linkedid) == {old_recording.linkedid, young_recording.linkedid,
                                old_message.linkedid, young_message.linkedid}
    before = await inventory(media)
    assert len(before[3]) == 4

    preview = await purge(media).execute(dry_run=True)

    expected = {
        "call_recording": [by_linkedid[old_recording.linkedid]],
        "callback_message": [by_linkedid[old_message.linkedid]],
        CALL_RECORD: [ancient.linkedid],
    }
    assert {k: preview.ids(k) for k in expected} == expected
    assert await inventory(media) == before  # a dry run removes nothing

    done = await purge(media).execute(dry_run=False)

    assert {k: done.ids(k) for k in expected} == expected  # the same list
    assert done.files_removed == 2
    media_ids, calls, steps, files = await inventory(media)
    assert media_ids == before[0] - {by_linkedid[old_recording.linkedid],
                                     by_linkedid[old_message.linkedid]}
    assert calls == before[1] - {ancient.linkedid}
    assert steps < before[2]
    async with media.db.session() as s:
        left = set((await s.execute(select(CallStepRow.linkedid))).scalars())
    assert ancient.linkedid not in left
    assert {p.name for p in files} == {f"{young_recording.linkedid}.ogg",
                                       f"{young_message.linkedid}-message.ogg"}
    # Emptied day folders go too; the young ones stay.
    assert all(any(d.iterdir()) for d in media.archive_dir.rglob("*") if d.is_dir())
    async with media.db.session() as s:
        [entry] = await audit.entries(s, subject_type="retention")
    assert (entry.actor, entry.action) == ("retention", "retention_purge")
    counts = {k: n for k, n in entry.after["counts"].items() if n}
    # The ancient call's stub goes with its call record (per-kind rules: tests/retention).
    assert counts == {"call_recording": 1, "callback_message": 1, CALL_RECORD: 1, "case_stub": 1}

    again = await purge(media).execute(dry_run=True)
    assert again.items == ()


async def test_report_lists_ids_never_numbers(media: Media) -> None:
    await message_call(media, 1, days_ago=400)
    media.clock.now = datetime.fromtimestamp(EPOCH - 399 * DAY, UTC)
    await media.process()
    media.clock.now = datetime.fromtimestamp(EPOCH, UTC)
    text = render(await purge(media).execute(dry_run=True))
    assert text.startswith("dry run: would remove 0 call recording(s), 1 callback message(s)")
    assert "85512345678" not in text and "+855" not in text


def test_daily_run_is_at_the_configured_local_time() -> None:
    bangkok = ZoneInfo("Asia/Bangkok")
    loop = PurgeLoop(None, time(3, 30), bangkok, lambda: datetime.now(UTC))  # type: ignore[arg-type]
    before = datetime(2026, 11, 25, 2, 0, tzinfo=bangkok)
    after = datetime(2026, 11, 25, 4, 0, tzinfo=bangkok)
    assert loop.next_run(before) == datetime(2026, 11, 25, 3, 30, tzinfo=bangkok)
    assert loop.next_run(after) == datetime(2026, 11, 26, 3, 30, tzinfo=bangkok)


async def test_command_line_dry_run(media: Media, db_url: str, state_dir: Path) -> None:
    await recorded_call(media, 1, days_ago=2000)  # only a call record: no files needed
    env = {**os.environ, "LINE1300_GENERAL_STATE_DIR": str(state_dir),
           "LINE1300_DATABASE_URL": db_url}
    argv = [sys.executable, "-m", "retention", "purge", "--dry-run"]
    out = subprocess.run(argv, cwd=repo_root(), env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "would remove 0 call recording(s), 0 callback message(s), 1 call record(s)" in out
    linkedid = call_script(1, at=EPOCH - 2000 * DAY).linkedid
    assert f"call_record: {linkedid}" in out
    async with media.db.session() as s:
        assert await s.get(CallRow, linkedid) is not None
