"""Callbacks through a real Asterisk with the project's full dialplan: the Khmer callback is placed
when the Khmer interpreter logs in (AMI Originate of her phone, then the dialplan's
`line1300-callback` context dials the caller over the trunk), a caller who does not answer is
tried again (clock injected) up to the limit, and an agent who does not pick up is recorded."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from functools import partial

import pytest

from agent_routing.callback_store import Attempt, Callback, CallbackStore
from agent_routing.install import Room
from ami import Event
from ivr.events import IvrStep
from sandbox.instance import AsteriskError, AsteriskInstance
from sandbox.provision import AsteriskRuntime
from settings import Settings, load_settings
from shift_schedule.clock import FixedClock
from sip_traffic.runner import SippProcess, start_sipp
from sip_traffic.scenarios import agent_scenario, ring_no_answer_scenario, unavailable_scenario
from storage import Database
from web.accounts import Role, User

from .asterisk_support import controller_link, eventually, started_room
from .conftest import KHMER, at

pytestmark = pytest.mark.asterisk
SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)
CALLER = "0899990000"


@pytest.fixture(scope="module")
def ivr_asterisk(
    asterisk_runtime: AsteriskRuntime,
    asterisk_settings: Settings,
) -> Iterator[AsteriskInstance]:
    """This module's own Asterisk with the full configuration (IVR and callback contexts)."""
    instance = AsteriskInstance.for_tests(asterisk_runtime, asterisk_settings)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop(remove=True)


@pytest.fixture
def quick_settings(settings: Settings) -> Settings:
    """The test settings with an agent phone that rings 4 s for a callback, not 30."""
    env = {
        "LINE1300_GENERAL_STATE_DIR": str(settings.state_dir),
        "LINE1300_DATABASE_URL": settings.database_url,
        "LINE1300_ROUTING_CALLBACK_AGENT_RING_SECONDS": "4",
    }
    return load_settings(env={**os.environ, **env})


@pytest.fixture
async def room(
    quick_settings: Settings,
    roster_db: Database,
    clock: FixedClock,
    ivr_asterisk: AsteriskInstance,
) -> AsyncIterator[Room]:
    clock.set(at(15))
    link = controller_link(ivr_asterisk)
    room = await started_room(quick_settings, roster_db, link, clock)
    yield room
    await room.stop()
    await link.close()


async def _request(room: Room) -> str:
    step = IvrStep.from_event(
        Event.build(
            "UserEvent",
            {
                "Uniqueid": "1741071600.7",
                "Linkedid": "1741071600.7",
                "UserEvent": "Line1300Ivr",
                "Step": "callback_requested",
                "Line": "international",
                "Lang": "km",
                "CallbackNumber": CALLER,
                "Message": "/srv/line1300/msg.wav",
            },
        )
    )
    assert step is not None
    stored = await room.record_callback_request.handle(step)
    assert stored is not None
    return stored.id


async def _read(db: Database, callback_id: str) -> tuple[Callback, list[Attempt]]:
    async with db.session() as s:
        store = CallbackStore(s)
        callback = await store.get(callback_id)
        assert callback is not None
        return callback, await store.attempts(callback_id)


async def _phone(instance: AsteriskInstance, scenario: str, name: str, port: int) -> SippProcess:
    phone = await start_sipp(scenario, name=name, local_port=port)
    await asyncio.sleep(0.3)  # bound to its port before Asterisk sends the INVITE
    return phone


def _needs_callback_context(instance: AsteriskInstance) -> None:
    try:
        shown = instance.rx("dialplan show s@line1300-callback")
    except AsteriskError as exc:
        shown = str(exc)
    if "line1300-callback" not in shown or "no such" in shown.lower():
        pytest.skip("the dialplan has no line1300-callback context yet (IVR room)")


async def test_khmer_callback_placed_at_her_login_and_retried_until_the_limit(
    room: Room,
    roster_db: Database,
    clock: FixedClock,
    ivr_asterisk: AsteriskInstance,
) -> None:
    _needs_callback_context(ivr_asterisk)
    await room.routing.logout.execute(SUPERVISOR, KHMER)
    callback_id = await _request(room)
    agent = await _phone(
        ivr_asterisk, agent_scenario(ring=0.0, talk=None), "agent", ivr_asterisk.ports.agent_sip
    )
    carrier = await _phone(
        ivr_asterisk, unavailable_scenario(), "carrier", ivr_asterisk.ports.trunk
    )
    try:
        await eventually(lambda: _attempts(roster_db, callback_id, 0), timeout=3)  # none yet
        await room.routing.login.execute(SUPERVISOR, KHMER)
        for done in range(1, 4):
            await eventually(
                partial(_caller_attempts, roster_db, callback_id, done), timeout=20, step=0.2
            )
            clock.advance(timedelta(minutes=10))
            room.triggers.kick_callbacks()
    finally:
        await agent.stop()
        await carrier.stop()
    callback, attempts = await _read(roster_db, callback_id)
    assert (callback.status, callback.attempts) == ("unanswered", 3)
    assert [(a.agent_id, a.result) for a in attempts] == [(KHMER, "no_answer")] * 3


async def test_agent_who_does_not_pick_up_is_recorded_and_the_callback_waits(
    room: Room,
    roster_db: Database,
    ivr_asterisk: AsteriskInstance,
) -> None:
    await room.routing.logout.execute(SUPERVISOR, KHMER)
    callback_id = await _request(room)
    agent = await _phone(
        ivr_asterisk, ring_no_answer_scenario(), "agent-away", ivr_asterisk.ports.agent_sip
    )
    try:
        await room.routing.login.execute(SUPERVISOR, KHMER)
        await eventually(lambda: _ended_attempts(roster_db, callback_id, 1), timeout=20, step=0.2)
    finally:
        await agent.stop()
    callback, attempts = await _read(roster_db, callback_id)
    assert (callback.status, callback.attempts) == ("waiting", 0)
    assert [(a.agent_id, a.result) for a in attempts] == [(KHMER, "agent_no_answer")]


async def _attempts(db: Database, callback_id: str, count: int) -> bool:
    return len((await _read(db, callback_id))[1]) == count


async def _caller_attempts(db: Database, callback_id: str, count: int) -> bool:
    return (await _read(db, callback_id))[0].attempts >= count


async def _ended_attempts(db: Database, callback_id: str, count: int) -> bool:
    return sum(1 for a in (await _read(db, callback_id))[1] if a.ended_at) >= count
