from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
import structlog

from ami import (
    Action,
    ActionLost,
    ActionTimeout,
    AmiLink,
    Backoff,
    Event,
    LinkClosed,
    LinkState,
    LoginFailed,
    StateChange,
    StreamRecorder,
    load_recording,
    replay_into_parser,
)
from tests.ami.fake_ami import FakeAmi, LinkFactory, event, response

THAI_NAME = "สมชาย ใจดี"


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


def collector(link: AmiLink, *names: str) -> list[Event]:
    seen: list[Event] = []
    link.subscribe(seen.append, *names)
    return seen


def state_log(link: AmiLink) -> list[StateChange]:
    changes: list[StateChange] = []
    link.on_state(changes.append)
    return changes


# -- login, events, plain actions


async def test_login_then_events_reach_subscribers(link: AmiLink, fake: FakeAmi) -> None:
    login = fake.actions("Login")[0]
    assert (login.get("Username"), login.get("Secret"), login.get("Events")) == (
        "ctl",
        "s3cret",
        "on",
    )
    assert link.banner == "Asterisk Call Manager/9.0.0"
    assert link.state is LinkState.CONNECTED
    seen = collector(link, "Newchannel")
    fake.emit("Hangup")
    fake.emit("Newchannel", CallerIDNum="+66812345678", CallerIDName=THAI_NAME)
    await eventually(lambda: len(seen) == 1)
    assert seen[0].name == "Newchannel"
    assert seen[0].headers["CallerIDName"] == THAI_NAME
    assert seen[0].received_at > 0


async def test_send_returns_response(link: AmiLink) -> None:
    answer = await link.send({"Action": "CoreStatus"})
    assert answer.ok and answer.message == "OK"
    assert link.stats.actions_pending == 0


async def test_error_response_is_returned_not_raised(link: AmiLink, fake: FakeAmi) -> None:
    fake.replies["queueadd"] = lambda f: [
        response(f.get("ActionID"), "Error", Message="Unable to add interface")
    ]
    answer = await link.send(Action("QueueAdd", {"Queue": "1300", "Interface": "PJSIP/a"}))
    assert not answer.ok and answer.message == "Unable to add interface"


async def test_list_action_collects_its_events(link: AmiLink, fake: FakeAmi) -> None:
    everything = collector(link, "*")
    answer = await link.send(Action("QueueStatus", {"Queue": "1300"}))
    assert answer.ok
    assert [e.name for e in answer.events] == [
        "QueueParams",
        "QueueMember",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
    ]
    assert answer.events[3].headers["CallerIDName"] == THAI_NAME
    await link.send(Action("Ping"))
    # List events belong to the answer; subscribers do not see them.
    assert not [e for e in everything if e.name.startswith("Queue")]


async def test_events_with_action_id_of_plain_action_still_reach_subscribers(
    link: AmiLink, fake: FakeAmi
) -> None:
    # Async Originate: the answer, then OriginateResponse carrying the same
    # ActionID; the second time the event even overtakes the answer.
    fake.replies["originate"] = lambda f: [
        response(f.get("ActionID"), Message="Originate successfully queued"),
        event("OriginateResponse", ActionID=f.get("ActionID") or "", Response="Success"),
    ]
    seen = collector(link, "OriginateResponse")
    first = await link.send(Action("Originate", {"Channel": "PJSIP/a", "Async": True}))
    assert first.ok and first.events == ()
    fake.replies["originate"] = lambda f: [
        event("OriginateResponse", ActionID=f.get("ActionID") or "", Response="Failure"),
        response(f.get("ActionID"), Message="Originate successfully queued"),
    ]
    await link.send(Action("Originate", {"Channel": "PJSIP/b", "Async": True}))
    await eventually(lambda: len(seen) == 2)
    assert [e.headers["Response"] for e in seen] == ["Success", "Failure"]


# -- timeouts


async def test_action_timeout_fails_future_and_cleans_pending(link: AmiLink, fake: FakeAmi) -> None:
    fake.hold.add("originate")
    with pytest.raises(ActionTimeout) as caught:
        await link.send(Action("Originate", {"Channel": "PJSIP/a"}), timeout=0.1)
    assert caught.value.sent and caught.value.action == "Originate"
    assert isinstance(caught.value, TimeoutError)
    stats = link.stats
    assert (stats.actions_pending, stats.actions_queued, stats.actions_timed_out) == (0, 0, 1)
    # The late answer is counted and ignored.
    fake.send_raw(response(caught.value.action_id, Message="late"))
    await eventually(lambda: link.stats.unmatched_responses == 1)
    assert (await link.send(Action("Ping"))).ok


async def test_cancelled_caller_leaves_nothing_pending(link: AmiLink, fake: FakeAmi) -> None:
    fake.hold.add("originate")
    task = asyncio.create_task(link.send(Action("Originate", {"Channel": "PJSIP/a"})))
    await fake.wait_for("Originate")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert link.stats.actions_pending == 0


async def test_default_timeout_applies(make_link: LinkFactory, fake: FakeAmi) -> None:
    link = make_link(action_timeout=0.1)
    await link.start()
    await link.wait_connected(2)
    fake.hold.add("status")
    with pytest.raises(ActionTimeout):
        await link.send(Action("Status"))


# -- login gate


async def test_actions_wait_for_login(make_link: LinkFactory, fake: FakeAmi) -> None:
    fake.login_delay = 0.2
    link = make_link()
    await link.start()
    answer = await link.send(Action("CoreStatus"))  # issued before the login finished
    # The fake answers "Permission denied" to anything sent before Login.
    assert answer.ok
    assert [f.get("Action") for f in fake.received] == ["Login", "CoreStatus"]


async def test_queued_action_times_out_without_login(make_link: LinkFactory, fake: FakeAmi) -> None:
    await fake.stop()  # nothing listens: the link never logs in
    link = make_link()
    await link.start()
    with pytest.raises(ActionTimeout) as caught:
        await link.send(Action("Originate", {"Channel": "PJSIP/a"}), timeout=0.1)
    assert caught.value.sent is False
    assert link.stats.actions_queued == 0


async def test_rejected_login_is_reported_and_retried(
    make_link: LinkFactory, fake: FakeAmi
) -> None:
    link = make_link()
    fake.secret = "changed-on-the-asterisk-side"
    await link.start()
    with pytest.raises(LoginFailed):
        await link.wait_connected(2)
    await eventually(lambda: link.stats.login_failures >= 2)  # retried with backoff
    assert link.state is not LinkState.CONNECTED
    with pytest.raises(LoginFailed):  # the last attempt's verdict, at once
        await link.wait_connected(2)
    fake.secret = "s3cret"  # e.g. manager.conf fixed and reloaded
    await eventually(lambda: link.connected)
    await link.wait_connected(0)


# -- reconnect


async def test_in_flight_originate_is_lost_not_resent(
    make_link: LinkFactory, fake: FakeAmi
) -> None:
    link = make_link()
    changes = state_log(link)
    await link.start()
    await link.wait_connected(2)
    fake.hold.update({"originate", "queuepause"})
    originate = asyncio.create_task(link.send(Action("Originate", {"Channel": "PJSIP/a"})))
    pause = asyncio.create_task(link.send(Action("QueuePause", {"Interface": "PJSIP/a"})))
    await fake.wait_for("QueuePause")
    fake.drop()
    with pytest.raises(ActionLost) as lost:
        await originate
    assert lost.value.idempotent is False
    with pytest.raises(ActionLost) as lost_pause:
        await pause
    assert lost_pause.value.idempotent is True
    fake.hold.clear()
    await link.wait_connected(2)
    assert (await link.send(Action("Ping"))).ok  # the new session works
    assert fake.count("Originate") == 1
    assert fake.count("QueuePause") == 1
    assert fake.connections == 2
    assert link.stats.actions_lost == 2 and link.stats.actions_pending == 0
    await eventually(lambda: len(changes) == 3)
    assert [(c.state, c.session) for c in changes] == [
        (LinkState.CONNECTED, 1),
        (LinkState.DISCONNECTED, 1),
        (LinkState.CONNECTED, 2),
    ]


class RecordingBackoff(Backoff):
    """Backoff that notes which attempt numbers the link asked for."""

    asked: ClassVar[list[int]] = []

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        RecordingBackoff.asked.append(attempt)
        return Backoff.delay(self, attempt)


async def test_reconnects_with_backoff_after_outage(make_link: LinkFactory, fake: FakeAmi) -> None:
    RecordingBackoff.asked = []
    backoff = RecordingBackoff(initial=0.02, maximum=0.08, multiplier=2.0, jitter=0.0)
    link = make_link(backoff=backoff)
    changes = state_log(link)
    await link.start()
    await link.wait_connected(2)
    await fake.stop()  # Asterisk down: connections refused
    await asyncio.sleep(0.4)
    failures = link.stats.connect_failures
    # 0.02, 0.04, 0.08, 0.08... : a handful of attempts, not a busy loop.
    assert 3 <= failures <= 8
    assert RecordingBackoff.asked[:4] == [0, 1, 2, 3]
    await fake.start()  # same port
    await link.wait_connected(2)
    assert link.stats.sessions == 2
    await eventually(lambda: len(changes) == 3)
    assert changes[-1].state is LinkState.CONNECTED and changes[-1].session == 2
    # A good session resets the backoff.
    fake.drop()
    await eventually(lambda: link.stats.sessions == 3)
    assert RecordingBackoff.asked[-1] == 0


async def test_dead_socket_detected_by_unanswered_ping(
    make_link: LinkFactory, fake: FakeAmi
) -> None:
    interval, timeout = 0.15, 0.15
    link = make_link(ping_interval=interval, ping_timeout=timeout)
    changes = state_log(link)
    await link.start()
    await link.wait_connected(2)
    await eventually(lambda: fake.count("Ping") >= 1)  # pings flow and are answered
    assert link.state is LinkState.CONNECTED
    fake.answer_pings = False  # half-open: TCP is up, nothing answers
    loop = asyncio.get_running_loop()
    went_silent = loop.time()
    await eventually(lambda: any(c.state is LinkState.DISCONNECTED for c in changes))
    detected_after = loop.time() - went_silent
    assert detected_after <= interval + timeout + 0.1
    assert link.stats.ping_failures == 1
    fake.answer_pings = True
    await link.wait_connected(2)
    assert link.stats.sessions == 2


async def test_state_handler_registered_late_is_told_connected(link: AmiLink) -> None:
    changes = state_log(link)
    await eventually(lambda: len(changes) == 1)
    assert changes[0].state is LinkState.CONNECTED


async def test_async_state_handler(make_link: LinkFactory, fake: FakeAmi) -> None:
    link = make_link()
    restored: list[int] = []

    async def restore_roster(change: StateChange) -> None:
        if change.state is LinkState.CONNECTED:
            await link.send(Action("QueueAdd", {"Queue": "1300", "Interface": "PJSIP/a"}))
            restored.append(change.session)

    link.on_state(restore_roster)
    await link.start()
    await eventually(lambda: restored == [1])
    fake.drop()
    await eventually(lambda: restored == [1, 2])
    assert fake.count("QueueAdd") == 2


# -- subscribers


async def test_slow_subscriber_does_not_delay_another(link: AmiLink, fake: FakeAmi) -> None:
    loop = asyncio.get_running_loop()

    async def slow(_: Event) -> None:
        await asyncio.sleep(0.5)

    fast_times: list[float] = []
    slow_sub = link.subscribe(slow, "UserEvent")
    link.subscribe(lambda e: fast_times.append(loop.time()), "UserEvent")
    start = loop.time()
    for n in range(20):
        fake.emit("UserEvent", UserEvent="tick", N=str(n))
    await eventually(lambda: len(fast_times) == 20, timeout=1.0)
    assert max(fast_times) - start < 0.3
    assert slow_sub.stats.delivered <= 1
    assert slow_sub.stats.high_water >= 15
    stats = link.stats
    assert stats.events_dropped == 0 and stats.max_queue_depth >= 15


async def test_failing_subscriber_keeps_receiving(link: AmiLink, fake: FakeAmi) -> None:
    got: list[str] = []

    def flaky(e: Event) -> None:
        got.append(e.headers["N"])
        if e.headers["N"] == "0":
            raise RuntimeError("handler bug")

    sub = link.subscribe(flaky, "UserEvent")
    fake.emit("UserEvent", N="0")
    fake.emit("UserEvent", N="1")
    await eventually(lambda: got == ["0", "1"])
    assert sub.stats.errors == 1


async def test_patterns_and_unsubscribe(link: AmiLink, fake: FakeAmi) -> None:
    queue_events = collector(link, "Queue*", "hangup")
    fake.emit("QueueCallerJoin")
    fake.emit("Hangup")
    fake.emit("Newchannel")
    await eventually(lambda: len(queue_events) == 2)
    assert [e.name for e in queue_events] == ["QueueCallerJoin", "Hangup"]
    assert link.stats.subscribers[0].patterns == ("Queue*", "hangup")
    sub = link.subscribe(queue_events.append, "Hangup")
    sub.unsubscribe()
    fake.emit("Hangup")
    await eventually(lambda: len(queue_events) == 3)
    await asyncio.sleep(0.02)
    assert len(queue_events) == 3
    assert len(link.stats.subscribers) == 1


# -- bytes on the wire


async def test_thai_name_split_across_reads(link: AmiLink, fake: FakeAmi) -> None:
    seen = collector(link, "Newchannel")
    data = event("Newchannel", CallerIDName=THAI_NAME, Exten="1300")
    for cut in range(1, len(data)):
        await fake.send_chunks([data[:cut], data[cut:]], gap=0.0005)
    await eventually(lambda: len(seen) == len(data) - 1)
    assert {e.headers["CallerIDName"] for e in seen} == {THAI_NAME}
    assert link.stats.malformed_frames == 0


async def test_malformed_frames_are_counted_and_survived(link: AmiLink, fake: FakeAmi) -> None:
    seen = collector(link, "*")
    fake.send_raw(b"Foo: bar\r\n\r\n")
    fake.send_raw(b"Event: UserEvent\r\nData: " + b"x" * 65536 + b"\r\n\r\n")
    fake.send_raw(b"Event: Bad\r\nCallerIDName: \xff\xfe\r\n\r\n")
    fake.send_raw(b"Event: Dup\r\nEvent: Dup\r\n\r\n")
    assert (await link.send(Action("Ping"))).ok
    await eventually(lambda: len(seen) >= 3)
    assert link.stats.malformed_frames == 4
    capped = next(e for e in seen if e.name == "UserEvent")
    assert len(capped.headers["Data"]) < 65536
    assert next(e for e in seen if e.name == "Bad").headers["CallerIDName"] == "\ufffd\ufffd"


async def test_logs_do_not_contain_caller_numbers(link: AmiLink, fake: FakeAmi) -> None:
    fake.hold.add("originate")
    with structlog.testing.capture_logs() as logs:
        fake.send_raw(b"CallerIDNum: +66812345678\r\n\r\n")  # malformed, gets logged
        with pytest.raises(ActionTimeout):
            await link.send(
                Action("Originate", {"Channel": "PJSIP/0812345678@trunk"}), timeout=0.05
            )
        await eventually(lambda: link.stats.malformed_frames == 1)
    assert any(entry["event"] == "ami.malformed_frame" for entry in logs)
    assert "812345678" not in repr(logs)


async def test_link_records_stream_for_replay(
    make_link: LinkFactory, fake: FakeAmi, tmp_path: Path
) -> None:
    path = tmp_path / "session.jsonl"
    with StreamRecorder(path) as recorder:
        link = make_link(recorder=recorder)
        await link.start()
        await link.wait_connected(2)
        fake.emit("Newchannel", CallerIDName=THAI_NAME)
        await link.send(Action("Ping"))
        await link.close()
    frames = replay_into_parser(load_recording(path))
    names = [f.get("Event") or f.get("Response") for f in frames]
    assert names[:3] == ["Success", "FullyBooted", "Newchannel"]
    assert frames[2].headers["CallerIDName"] == THAI_NAME


async def test_replayed_fixture_through_link(link: AmiLink, fake: FakeAmi) -> None:
    chunks = load_recording(Path(__file__).parent / "fixtures" / "asterisk22_session.jsonl")
    seen = collector(link, "Newchannel", "Hangup", "QueueMember")
    # Skip the fixture's banner/login chunks' frames: the link already logged in,
    # so its stray login answer is just an unmatched response.
    await fake.replay(chunks)
    await eventually(lambda: [e.name for e in seen] == ["Newchannel", "QueueMember", "Hangup"])
    assert seen[0].headers["CallerIDName"] == "สมหญิง รักดี"


# -- close


async def test_close_fails_pending_and_rejects_new(make_link: LinkFactory, fake: FakeAmi) -> None:
    link = make_link()
    changes = state_log(link)
    await link.start()
    await link.wait_connected(2)
    fake.hold.add("originate")
    in_flight = asyncio.create_task(link.send(Action("Originate", {"Channel": "PJSIP/a"})))
    await fake.wait_for("Originate")
    await link.close()
    with pytest.raises(LinkClosed):
        await in_flight
    with pytest.raises(LinkClosed):
        await link.send(Action("Ping"))
    assert fake.count("Logoff") == 1
    assert link.state is LinkState.CLOSED
    assert [c.state for c in changes] == [LinkState.CONNECTED, LinkState.DISCONNECTED]
    assert link.stats.actions_pending == 0


async def test_close_fails_queued_actions(make_link: LinkFactory, fake: FakeAmi) -> None:
    await fake.stop()
    link = make_link()
    await link.start()
    queued = asyncio.create_task(link.send(Action("Ping")))
    await asyncio.sleep(0.05)
    await link.close()
    with pytest.raises(LinkClosed):
        await queued


async def test_wait_connected_times_out(make_link: LinkFactory, fake: FakeAmi) -> None:
    await fake.stop()
    link = make_link()
    await link.start()
    with pytest.raises(TimeoutError):
        await link.wait_connected(0.1)


async def test_events_held_for_a_failed_action_reach_subscribers(
    link: AmiLink, fake: FakeAmi
) -> None:
    # The event overtakes an answer that never comes: it must not vanish
    # with the timed-out action.
    fake.replies["originate"] = lambda f: [
        event("OriginateResponse", ActionID=f.get("ActionID") or "", Response="Failure")
    ]
    seen = collector(link, "OriginateResponse")
    with pytest.raises(ActionTimeout):
        await link.send(Action("Originate", {"Channel": "PJSIP/a"}), timeout=0.1)
    await eventually(lambda: len(seen) == 1)


async def test_frame_cut_by_disconnect_is_not_delivered(link: AmiLink, fake: FakeAmi) -> None:
    seen = collector(link, "Hangup")
    fake.send_raw(b"Event: Hangup\r\nChannel: PJSIP/trunk-0001\r\nCause: 1")
    await asyncio.sleep(0.02)
    fake.drop()
    await eventually(lambda: link.stats.disconnects == 1)
    await link.wait_connected(2)
    assert seen == []
    assert link.stats.malformed_frames == 1


class BrokenRecorder(StreamRecorder):
    def record(self, data: bytes, direction: str = "in") -> None:
        raise OSError("disk full")


async def test_failing_recorder_does_not_break_the_link(
    make_link: LinkFactory, tmp_path: Path
) -> None:
    with BrokenRecorder(tmp_path / "r.jsonl") as recorder:
        link = make_link(recorder=recorder)
        await link.start()
        await link.wait_connected(2)
        assert (await link.send(Action("Ping"))).ok
        assert link.stats.sessions == 1


async def test_backlog_is_warned_about_not_dropped(make_link: LinkFactory, fake: FakeAmi) -> None:
    link = make_link(subscriber_warn_depth=5)
    await link.start()
    await link.wait_connected(2)
    release = asyncio.Event()
    handled: list[Event] = []

    async def stuck(e: Event) -> None:
        await release.wait()
        handled.append(e)

    sub = link.subscribe(stuck, "UserEvent")
    with structlog.testing.capture_logs() as logs:
        for n in range(12):
            fake.emit("UserEvent", N=str(n))
        await eventually(lambda: sub.stats.high_water >= 11)
    warnings = [e for e in logs if e["event"] == "ami.subscriber_backlog"]
    assert [w["depth"] for w in warnings] == [5, 10]
    release.set()
    await eventually(lambda: len(handled) == 12)
    assert [e.headers["N"] for e in handled] == [str(n) for n in range(12)]
    assert link.stats.events_dropped == 0
