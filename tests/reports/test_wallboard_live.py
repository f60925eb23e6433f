"""The wallboard's live queue state, fed with AMI events shaped as Asterisk 22 sends them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from agent_routing.skills import routing
from ami import Event
from reports.kpis import ComputeKpis
from reports.wallboard.feed import WallboardFeed
from reports.wallboard.hub import CLIENT_QUEUE, Client, WallboardHub
from reports.wallboard.live import LiveQueues


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def member(event: str, queue: str, agent: str, *, status: int = 1, paused: bool = False,
           reason: str = "", in_call: bool = False, last_call: float = 0) -> Event:
    n = agent[1:]
    return Event.build(event, {
        "Queue": queue, "MemberName": agent, "Interface": f"PJSIP/agent-{n}",
        "StateInterface": f"PJSIP/agent-{n}", "Membership": "dynamic", "Penalty": "0",
        "CallsTaken": "0", "LastCall": str(int(last_call)), "LastPause": "0",
        "LoginTime": "1700000000", "InCall": "1" if in_call else "0", "Status": str(status),
        "Paused": "1" if paused else "0", "PausedReason": reason, "Wrapuptime": "0",
    })


def caller(event: str, queue: str, uniqueid: str, number: str = "+66812345678") -> Event:
    return Event.build(event, {
        "Channel": f"PJSIP/trunk-{uniqueid}", "CallerIDNum": number, "Uniqueid": uniqueid,
        "Linkedid": uniqueid, "Queue": queue, "Position": "1", "Count": "1",
        "Priority": "3",  # the dialplan priority: never the queue priority
    })


def ivr_queued(uniqueid: str, priority: str) -> Event:
    # The channel snapshot's own "Priority" (dialplan) comes before the UserEvent header.
    return Event.build("UserEvent", {
        "Channel": f"PJSIP/trunk-{uniqueid}", "Uniqueid": uniqueid, "Linkedid": uniqueid,
        "UserEvent": "Line1300Ivr", "Step": "queued", "Line": "domestic", "Lang": "th",
        "Priority": priority, "Queue": "counsel-th",
    })


def live(clock: Clock) -> LiveQueues:
    d = routing()
    return LiveQueues(d.queues, d.languages, critical_priority=d.ivr.critical_priority,
                      default_wrapup=30, wrapup_reasons=frozenset({"after_call_work"}),
                      clock=clock)


def row(board: dict[str, Any], queue: str) -> dict[str, Any]:
    return next(q for q in board["queues"] if q["name"] == queue)


def test_a_caller_waits_then_is_answered() -> None:
    clock = Clock()
    state = live(clock)
    assert state.apply(member("QueueMemberAdded", "counsel-th", "A001"))
    assert state.apply(caller("QueueCallerJoin", "counsel-th", "1700000000.1"))
    clock.now += 42
    board = state.board().as_json()
    counsel = row(board, "counsel-th")
    assert counsel["waiting"] == 1 and counsel["longest_wait"] == 42
    assert counsel["callers"][0]["caller"] == "+6681****5678"  # never the full number
    assert counsel["agents"]["available"] == 1
    state.apply(member("QueueMemberStatus", "counsel-th", "A001", status=6))  # ringing
    state.apply(caller("QueueCallerLeave", "counsel-th", "1700000000.1"))
    state.apply(member("QueueMemberStatus", "counsel-th", "A001", status=2, in_call=True))
    counsel = row(state.board().as_json(), "counsel-th")
    assert counsel["waiting"] == 0 and counsel["longest_wait"] == 0
    assert counsel["agents"]["on_call"] == 1 and counsel["agents"]["available"] == 0


def test_wrap_up_after_the_call_then_available() -> None:
    clock = Clock()
    state = live(clock)
    state.apply(member("QueueMemberStatus", "counsel-th", "A001", last_call=clock.now))
    assert row(state.board().as_json(), "counsel-th")["agents"]["wrapup"] == 1
    clock.now += 31
    assert row(state.board().as_json(), "counsel-th")["agents"]["available"] == 1
    state.apply(member("QueueMemberPause", "counsel-th", "A001", paused=True,
                       reason="after_call_work"))
    assert row(state.board().as_json(), "counsel-th")["agents"]["wrapup"] == 1
    state.apply(member("QueueMemberPause", "counsel-th", "A001", paused=True, reason="break"))
    assert row(state.board().as_json(), "counsel-th")["agents"]["paused"] == 1


def test_critical_callers_are_marked_and_listed_first() -> None:
    clock = Clock()
    state = live(clock)
    state.apply(caller("QueueCallerJoin", "counsel-th", "1.1"))
    clock.now += 10
    state.apply(ivr_queued("1.2", "critical"))
    state.apply(caller("QueueCallerJoin", "counsel-th", "1.2"))
    state.apply(caller("QueueCallerJoin", "critical-th", "1.3"))
    board = state.board().as_json()
    counsel = row(board, "counsel-th")
    assert [c["linkedid"] for c in counsel["callers"]] == ["1.2", "1.1"]
    assert counsel["critical_waiting"] == 1
    assert row(board, "critical-th")["critical_waiting"] == 1  # the emergency queue itself


def test_queue_status_answer_replaces_the_state() -> None:
    clock = Clock()
    state = live(clock)
    state.apply(caller("QueueCallerJoin", "intl-en", "9.9"))  # gone while we were away
    state.load([
        Event.build("QueueParams", {"Queue": "intl-km"}),
        Event.build("QueueMember", {
            "Queue": "intl-km", "Name": "A060", "Location": "PJSIP/agent-060", "Status": "1",
            "Paused": "0", "InCall": "0", "LastCall": "0", "Wrapuptime": "0"}),
        Event.build("QueueEntry", {
            "Queue": "intl-km", "Position": "1", "Uniqueid": "5.5", "CallerIDNum": "+85512345678",
            "Wait": "75", "Priority": "10"}),
    ])
    board = state.board().as_json()
    assert row(board, "intl-en")["waiting"] == 0
    km = row(board, "intl-km")
    assert km["waiting"] == 1 and km["longest_wait"] == 75
    assert km["callers"][0]["critical"]  # queue priority 10 = the IVR's critical priority
    khmer = next(lang for lang in board["languages"] if lang["code"] == "km")
    assert khmer["agents"]["available"] == 1 and khmer["waiting"] == 1


def test_agents_by_language_count_each_agent_once() -> None:
    state = live(Clock())
    for queue in ("counsel-th", "critical-th", "intl-th"):
        state.apply(member("QueueMemberAdded", queue, "A001"))
    state.apply(member("QueueMemberAdded", "intl-th", "A050", paused=True, reason="break"))
    thai = next(lang for lang in state.board().as_json()["languages"] if lang["code"] == "th")
    assert thai["agents"]["available"] == 1 and thai["agents"]["paused"] == 1
    assert state.apply(Event.build("QueueMemberRemoved", {
        "Queue": "intl-th", "MemberName": "A050", "Interface": "PJSIP/agent-050"}))


async def test_a_slow_screen_skips_to_the_newest_board() -> None:
    class StuckSocket:
        async def send_json(self, _: object) -> None:
            await asyncio.Event().wait()

    client = Client(StuckSocket(), "screen")  # type: ignore[arg-type]
    for n in range(CLIENT_QUEUE + 5):
        client.offer({"n": n})
    assert client.queue.qsize() == CLIENT_QUEUE
    assert client.dropped == 5
    assert client.queue.get_nowait() == {"n": 5}


class CountingKpis:
    """Today's figures for the feed, counting how often they are computed."""

    threshold = 20

    def __init__(self) -> None:
        self.summaries = 0

    async def summary(self, _filter: object) -> tuple[Any, list[Any]]:
        self.summaries += 1
        return Figures(self.summaries), []


class Figures:
    def __init__(self, offered: int) -> None:
        self.offered = offered

    def as_json(self) -> dict[str, Any]:
        keys = ("offered", "answered", "abandoned", "service_level", "abandon_rate", "asa",
                "longest_wait")
        return {k: self.offered if k == "offered" else 0 for k in keys}


class RecordingHub(WallboardHub):
    def __init__(self) -> None:
        super().__init__()
        self.boards: list[dict[str, Any]] = []

    def publish(self, message: dict[str, Any]) -> None:
        self.boards.append(message)
        super().publish(message)


async def test_a_burst_of_call_ends_makes_a_board_per_interval_not_per_event() -> None:
    kpis, hub = CountingKpis(), RecordingHub()
    boards = hub.boards
    feed = WallboardFeed(live(Clock()), cast(ComputeKpis, kpis), hub, ZoneInfo("Asia/Bangkok"),
                         min_interval=0.2, clock=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    running = asyncio.create_task(feed.run())
    try:
        await asyncio.sleep(0.05)  # the first board, at once
        for n in range(200):  # 200 callers join and leave within ~0.5 s
            feed.on_event(caller("QueueCallerJoin", "counsel-th", f"1700000000.{n}"))
            feed.on_event(caller("QueueCallerLeave", "counsel-th", f"1700000000.{n}"))
            await asyncio.sleep(0.0025)
        await asyncio.sleep(0.5)
    finally:
        running.cancel()
    # One board at start, then one per 0.2 s of changes (and one after the last): not 400.
    assert 3 <= len(boards) <= 7, len(boards)
    assert kpis.summaries == len(boards)
    # The last board came after the last change: nothing waits for the 5 s refresh.
    assert boards[-1]["today"]["total"]["offered"] == kpis.summaries
    assert row(boards[-1], "counsel-th")["waiting"] == 0
