"""Event flood: the AMI stream recorded from the real Asterisk (480 queue members added at once, as
after a queue reload, then calls through the IVR: tests/fault/fixtures/flood.ami.gz) replayed ten
times faster than it happened into the AmiLink with the controller's subscribers. Nothing dropped,
every event handled by each subscriber, every call recorded; the figures are printed.
(bench/event_flood.py runs it longer and unthrottled.)"""

from __future__ import annotations

from pathlib import Path

from ami import replay_into_parser
from bench.event_flood import DEFAULT_STREAM, flood, load_stream


async def test_stream_replayed_ten_times_faster_loses_nothing(tmp_path: Path) -> None:
    chunks = load_stream(DEFAULT_STREAM)
    frames = [f for f in replay_into_parser(chunks) if f.kind == "event"]
    added = sum(1 for f in frames if f.get("Event") == "QueueMemberAdded")
    linkedids = {f.get("Linkedid") for f in frames if f.get("Event") == "Newchannel"
                 and (f.get("Channel") or "").startswith("PJSIP/trunk-")}
    figures = await flood(chunks, 10.0, f"sqlite+aiosqlite:///{tmp_path / 'flood.sqlite3'}")
    shown = "; ".join(" ".join(line.split()) for line in figures.lines())
    print(f"\n[fault] event flood at 10x: {shown}")
    assert added >= 400 and len(linkedids) >= 10
    assert figures.dropped == 0 and figures.tracker_errors == 0
    assert figures.calls_recorded == len(linkedids)
    tracker, board = figures.per_subscriber["call-tracker"], figures.per_subscriber["live-board"]
    assert tracker[1] == 0 and board[1] == 0
    assert board[0] == sum(1 for f in frames if f.get("Event") in
                           ("QueueMemberStatus", "AgentComplete", "AgentConnect"))
