"""The controller's manager.conf eventfilter: its lines, and that it covers every subscription."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ami import AmiLink
from ami.filters import EventFilter, admitted, by_name, merge
from controller.ami_events import CONTROLLER_EVENTS
from settings import Settings
from web.keys import AMI


def test_a_filter_by_name_is_one_line_with_nothing_to_match() -> None:
    assert EventFilter("Hangup").conf_line() == "eventfilter(action(include),name(Hangup)) ="


def test_a_narrowed_filter_matches_one_header_by_regex() -> None:
    f = EventFilter("VarSet", "Variable", "^_*L1300_LANG$")
    assert f.conf_line() == (
        "eventfilter(action(include),name(VarSet),header(Variable),method(regex)) = "
        "^_*L1300_LANG$"
    )
    assert f.admits({"Event": "VarSet", "Variable": "__L1300_LANG", "Value": "km"})
    assert not f.admits({"Event": "VarSet", "Variable": "BRIDGEPEER"})
    assert not f.admits({"Event": "Newexten", "Variable": "L1300_LANG"})


@pytest.mark.parametrize("name", ["", "Var Set", "VarSet)", "1Hangup", "a(b)"])
def test_a_name_that_would_break_the_line_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not an AMI event name"):
        EventFilter(name)


def test_header_without_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="go together"):
        EventFilter("VarSet", "Variable")


def test_merge_drops_repeats_and_narrowings_of_events_wanted_whole() -> None:
    narrow = EventFilter("UserEvent", "UserEvent", "^Line1300")
    merged = merge([*by_name("Hangup", "UserEvent"), narrow, EventFilter("Hangup")])
    assert merged == by_name("Hangup", "UserEvent")


def test_the_controller_gets_no_dialplan_steps_or_variable_changes() -> None:
    # The call's variables come on its events (channelvars); these are not even produced.
    assert not admitted(CONTROLLER_EVENTS, {"Event": "VarSet", "Variable": "__L1300_PRIORITY"})
    assert not admitted(CONTROLLER_EVENTS, {"Event": "Newexten", "Application": "Playback"})
    assert not admitted(CONTROLLER_EVENTS, {"Event": "RTCPSent"})
    assert admitted(CONTROLLER_EVENTS, {"Event": "AgentCalled", "Queue": "counsel-th"})


async def test_every_subscription_of_the_wired_app_is_let_through(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rooms subscribe while the app starts; an event name they take that the filter does
    not name would never arrive from Asterisk."""

    async def offline(self: AmiLink) -> None:  # no Asterisk: only the subscriptions matter
        return None

    monkeypatch.setattr(AmiLink, "start", offline)
    async with started(settings) as app:
        link = app[AMI]
        patterns = {p for s in link.subscriptions for p in s.patterns}
    assert patterns, "the rooms subscribed to nothing"
    allowed = {f.name.lower() for f in CONTROLLER_EVENTS}
    assert {p.lower() for p in patterns} <= allowed


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[web.Application]:
    from controller.wiring import build_app

    app = build_app(settings)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield app
    finally:
        await client.close()
