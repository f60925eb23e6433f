from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ami import Action, Event, Frame, FrameParser, Response
from ami.recording import (
    Chunk,
    chunks_from_bytes,
    load_recording,
    replay_into_parser,
    save_recording,
)

FIXTURES = Path(__file__).parent / "fixtures"
THAI_NAME = "สมชาย ใจดี"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"


def parse(data: bytes, **options: object) -> list[Frame]:
    parser = FrameParser(**options)  # type: ignore[arg-type]
    return parser.feed(data) + parser.feed_eof()


def summary(frames: list[Frame]) -> list[tuple[object, ...]]:
    return [(f.items, f.body, f.problems) for f in frames]


STREAM = (
    BANNER
    + b"Response: Success\r\nActionID: a-1\r\nMessage: Authentication accepted\r\n\r\n"
    + (
        "Event: Newchannel\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDNum: +66812345678\r\n"
        f"CallerIDName: {THAI_NAME}\r\nExten: 1300\r\n\r\n"
    ).encode()
    + b"Event: Hangup\r\nCause: 16\r\n\r\n"
)


def test_banner_is_not_a_frame() -> None:
    parser = FrameParser()
    frames = parser.feed(STREAM)
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    assert parser.version == "9.0.0"
    assert [f.kind for f in frames] == ["response", "event", "event"]
    assert not any(f.malformed for f in frames)


def test_event_and_response_value_objects() -> None:
    response_frame, new_channel, _ = parse(STREAM)
    response = Response.from_frame(response_frame)
    assert response.ok and response.action_id == "a-1"
    assert response.message == "Authentication accepted"
    event = Event.from_frame(new_channel)
    assert event.name == "Newchannel"
    assert event.headers["CallerIDName"] == THAI_NAME
    assert event.get("calleridnum") == "+66812345678"  # case-insensitive get
    assert "CallerIDName: " + THAI_NAME in event.raw
    with pytest.raises(TypeError):
        event.headers["Exten"] = "x"  # type: ignore[index]


def test_values_keep_colons_and_empty_values() -> None:
    (frame,) = parse(b"Event: X\r\nContext: a: b:c\r\nAccountCode: \r\nEmpty:\r\n\r\n")
    assert frame.headers == {"Event": "X", "Context": "a: b:c", "AccountCode": "", "Empty": ""}


def test_repeated_keys_keep_every_value() -> None:
    (frame,) = parse(b"Event: VarSet\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n\r\n")
    assert frame.headers["ChanVariable"] == "B=2"
    assert frame.getall("chanvariable") == ["A=1", "B=2"]
    assert not frame.malformed


def test_duplicate_identity_key_is_flagged_last_wins() -> None:
    (frame,) = parse(b"Event: A\r\nEvent: B\r\n\r\n")
    assert frame.problems == ("duplicate_identity_key",)
    assert frame.headers["Event"] == "B"


def test_frame_without_event_or_response_is_flagged() -> None:
    frames = parse(b"Foo: bar\r\n\r\nEvent: Ok\r\n\r\n")
    assert frames[0].kind == "unknown" and frames[0].problems == ("no_event_or_response",)
    assert frames[1].kind == "event" and not frames[1].malformed


def test_huge_header_line_is_capped_and_next_frame_survives() -> None:
    huge = b"Event: UserEvent\r\nData: " + b"x" * 65536 + b"\r\nTail: 1\r\n\r\n"
    parser = FrameParser(max_line_length=1024)
    frames: list[Frame] = []
    for i in range(0, len(huge), 1000):  # the huge line arrives over many reads
        frames += parser.feed(huge[i : i + 1000])
    frames += parser.feed(b"Event: Next\r\n\r\n")
    capped, following = frames
    assert capped.problems == ("line_capped",)
    assert len(capped.headers["Data"]) == 1024 - len("Data: ")
    assert capped.headers["Tail"] == "1"
    assert following.headers == {"Event": "Next"} and not following.malformed
    assert parser.stats.capped_lines == 1


def test_frame_too_large_is_cut_and_flagged() -> None:
    lines = b"".join(b"Output: line %d\r\n" % i for i in range(1000))
    (frame,) = parse(b"Response: Success\r\n" + lines + b"\r\n", max_frame_chars=2000)
    assert "frame_too_large" in frame.problems
    assert len(frame.raw) <= 2000


def test_missing_blank_line_at_eof() -> None:
    parser = FrameParser()
    assert parser.feed(b"Event: Hangup\r\nChannel: PJSIP/x") == []
    (frame,) = parser.feed_eof()
    assert frame.problems == ("truncated_at_eof",)
    assert frame.headers == {"Event": "Hangup", "Channel": "PJSIP/x"}


def test_invalid_utf8_becomes_replacement_char() -> None:
    frames = parse(b"Event: X\r\nCallerIDName: \xff\xfe ok\r\n\r\nEvent: Y\r\n\r\n")
    assert frames[0].headers["CallerIDName"] == "\ufffd\ufffd ok"
    assert frames[0].problems == ("invalid_utf8",)
    assert frames[1].headers == {"Event": "Y"}


def test_incomplete_utf8_at_eof_is_replaced() -> None:
    (frame,) = parse(b"Event: X\r\nName: " + THAI_NAME.encode()[:4])
    assert frame.headers["Name"] == THAI_NAME[0] + "\ufffd"
    assert set(frame.problems) == {"truncated_at_eof", "invalid_utf8"}


def test_bare_lf_and_extra_blank_lines_are_tolerated() -> None:
    frames = parse(b"\r\n\r\nEvent: A\nX: 1\n\n\r\n\r\nEvent: B\r\n\r\n")
    assert [f.headers for f in frames] == [{"Event": "A", "X": "1"}, {"Event": "B"}]


def test_lines_without_colon_are_body() -> None:
    data = b"Response: Follows\r\nPrivilege: Command\r\nsome output\r\n--END COMMAND--\r\n\r\n"
    (frame,) = parse(data)
    response = Response.from_frame(frame)
    assert response.ok
    assert response.output == ["some output", "--END COMMAND--"]


def test_command_output_headers() -> None:
    data = b"Response: Success\r\nMessage: Command output follows\r\nOutput: a\r\nOutput: b\r\n\r\n"
    (frame,) = parse(data)
    response = Response.from_frame(frame)
    assert response.output == ["a", "b"]
    assert not response.is_list_start


def test_list_response_markers() -> None:
    (start,) = parse(
        b"Response: Success\r\nEventList: start\r\nMessage: Queue status will follow\r\n\r\n"
    )
    assert Response.from_frame(start).is_list_start
    (error,) = parse(b"Response: Error\r\nMessage: Permission denied\r\n\r\n")
    assert not Response.from_frame(error).ok


@pytest.mark.parametrize("split_at", range(1, len(STREAM)))
def test_thai_name_split_at_every_byte_offset(split_at: int) -> None:
    parser = FrameParser()
    frames = parser.feed(STREAM[:split_at]) + parser.feed(STREAM[split_at:])
    assert summary(frames) == summary(parse(STREAM))
    assert frames[1].headers["CallerIDName"] == THAI_NAME


def test_byte_by_byte_feed() -> None:
    parser = FrameParser()
    frames: list[Frame] = []
    for i in range(len(STREAM)):
        frames += parser.feed(STREAM[i : i + 1])
    assert summary(frames) == summary(parse(STREAM))


@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=12))
def test_any_chunking_gives_the_same_frames(cuts: list[int]) -> None:
    frames = replay_into_parser(chunks_from_bytes(STREAM, cuts))
    assert summary(frames) == summary(parse(STREAM))


def test_recorded_fixture_replays_with_thai_names_intact() -> None:
    chunks = load_recording(FIXTURES / "asterisk22_session.jsonl")
    assert len(chunks) > 5  # the fixture splits Thai characters across reads
    parser = FrameParser()
    frames = replay_into_parser(chunks, parser)
    assert parser.version == "9.0.0"
    names = [f.get("Event") or f.get("Response") for f in frames]
    assert names == [
        "Success",
        "FullyBooted",
        "Newchannel",
        "Success",
        "QueueParams",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
        "Hangup",
    ]
    assert not any(f.malformed for f in frames)
    assert frames[2].headers["CallerIDName"] == "สมหญิง รักดี"
    assert frames[5].headers["Name"] == "ที่ปรึกษา 1"


def test_recording_round_trip(tmp_path: Path) -> None:
    chunks = [Chunk(0.0, b"\xe0\xb8"), Chunk(0.5, b"\xaa", "out")]
    save_recording(tmp_path / "r.jsonl", chunks)
    assert load_recording(tmp_path / "r.jsonl", direction=None) == chunks
    assert load_recording(tmp_path / "r.jsonl") == chunks[:1]


# -- actions


def test_action_encoding() -> None:
    action = Action(
        "Originate",
        {
            "Channel": "PJSIP/0812345678@trunk",
            "Variable": ["A=1", "B=2"],
            "Timeout": 30000,
            "Async": True,
            "CallerID": f'"{THAI_NAME}" <1300>',
        },
        action_id="id-1",
    )
    assert (
        action.encode()
        == (
            "Action: Originate\r\nActionID: id-1\r\nChannel: PJSIP/0812345678@trunk\r\n"
            "Variable: A=1\r\nVariable: B=2\r\nTimeout: 30000\r\nAsync: true\r\n"
            f'CallerID: "{THAI_NAME}" <1300>\r\n\r\n'
        ).encode()
    )
    assert not action.is_idempotent
    assert Action("QueueStatus").is_idempotent
    assert Action("QueueStatus", idempotent=False).is_idempotent is False


def test_action_ids_are_unique() -> None:
    assert len({Action("Ping").action_id for _ in range(1000)}) == 1000


def test_action_from_mapping() -> None:
    action = Action.from_mapping({"Action": "Hangup", "ActionID": "x", "Channel": "PJSIP/a"})
    assert (action.name, action.action_id, dict(action.headers)) == (
        "Hangup",
        "x",
        {"Channel": "PJSIP/a"},
    )
    with pytest.raises(ValueError):
        Action.from_mapping({"Channel": "PJSIP/a"})


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("Originate", {"CallerID": "x\r\nAction: Hangup"}),
        ("Originate", {"Bad\nKey": "x"}),
        ("Originate", {"Variable": ["ok", "bad\r"]}),
        ("Originate", {"Action": "Hangup"}),
        ("Bad\r\nName", {}),
        ("", {}),
    ],
)
def test_action_rejects_header_injection(name: str, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Action(name, headers)


def test_reprs_never_show_values() -> None:
    (frame,) = parse(b"Event: Newchannel\r\nCallerIDNum: +66812345678\r\n\r\n")
    login = Action("Login", {"Username": "ctl", "Secret": "hunter2"})
    texts = [repr(frame), repr(Event.from_frame(frame)), repr(login)]
    assert not any("812345678" in t or "hunter2" in t for t in texts)
    assert "CallerIDNum" in repr(frame)
