"""Fixtures of the fault tests: one Asterisk with the full IVR for the module (its restarts and
blocked sockets disturb nobody else), agent phones, a case-store receiver, and the controller as a
separate process on a database of its own, started for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import harness as h
from bench.fault_scenarios import Rig, clear_silence, iptables_usable
from sandbox.instance import AsteriskInstance
from sandbox.provision import AsteriskRuntime
from settings import Settings
from sip_traffic.runner import SippProcess
from tests.calls.receiver import CaseStore
from tests.integration.conftest import asterisk_runtime, asterisk_settings  # noqa: F401

# Short retry delays (settings, as an operator would set them) keep an outage test short.
FAST_RETRIES = {
    "LINE1300_CASE_STORE_BACKOFF_INITIAL": "0.2",
    "LINE1300_CASE_STORE_BACKOFF_MAX": "2.0",
    "LINE1300_CASE_STORE_TIMEOUT": "2.0",
}


@pytest.fixture(scope="module")
def fault_asterisk(
    asterisk_runtime: AsteriskRuntime, asterisk_settings: Settings,  # noqa: F811
) -> Iterator[AsteriskInstance]:
    instance = h.new_instance(asterisk_runtime, asterisk_settings, "fault")
    if iptables_usable():
        clear_silence(instance.ports.ami)  # left by a half-open test that was killed
    try:
        instance.start()
        yield instance
    finally:
        instance.stop(remove=True)


@pytest.fixture
async def phones(fault_asterisk: AsteriskInstance) -> AsyncIterator[SippProcess]:
    phone = await h.agent_phones(fault_asterisk, ring=0.3, talk=2.0)
    yield phone
    await phone.stop()


@pytest.fixture
async def case_store() -> AsyncIterator[CaseStore]:
    store = await CaseStore().start()
    yield store
    await store.stop()


@pytest.fixture
async def rig(
    fault_asterisk: AsteriskInstance, case_store: CaseStore, tmp_path: Path,
) -> AsyncIterator[Rig]:
    database = h.sqlite_url(tmp_path / "controller.sqlite3")
    controller = h.ControllerProcess(fault_asterisk, tmp_path / "state", database,
                                     case_store.url, extra_env=FAST_RETRIES)
    await controller.start()
    yield Rig(fault_asterisk, controller, database, case_store, datetime.now(UTC))
    await controller.stop()
    # Another test's controller starts from an Asterisk without this one's members.
    client = await h.admin(fault_asterisk)
    try:
        for entry in await client.list_action("QueueStatus"):
            if entry.get("Event") == "QueueMember":
                await client.action("QueueRemove", Queue=entry["Queue"],
                                    Interface=entry["Location"])
    finally:
        await client.close()
