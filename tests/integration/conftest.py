"""Fixtures for tests against a real Asterisk (marked ``asterisk``).

``asterisk`` is one instance per test session running the project's full configuration (the
IVR dialplan); ``queue_asterisk`` runs the same configuration with the minimal dialplan (every
DID straight into the default queue), for tests of the telephony layer. Both are on free ports
of their own, so several sessions (several engineers) run side by side. The first session on
a machine builds the Asterisk sandbox (about a minute; progress is printed).

Set LINE1300_KEEP_INSTANCES=1 to keep instance folders (logs, CDR, recordings) after the run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext

import pytest

from dialplans.minimal import minimal_extensions
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance, reap_stale_instances
from sandbox.provision import AsteriskRuntime, SandboxError, ensure_asterisk
from settings import Settings, load_settings
from sip_traffic.runner import SippProcess, start_sipp
from sip_traffic.scenarios import agent_scenario

KEEP = os.environ.get("LINE1300_KEEP_INSTANCES") == "1"


def _uncaptured(config: pytest.Config) -> AbstractContextManager[object]:
    capman = config.pluginmanager.getplugin("capturemanager")
    return capman.global_and_fixture_disabled() if capman else nullcontext()


@pytest.fixture(scope="session")
def asterisk_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a throw-away state dir (secrets, agent passwords) for the session."""
    state = tmp_path_factory.mktemp("asterisk-state")
    return load_settings(env={**os.environ, "LINE1300_GENERAL_STATE_DIR": str(state)})


@pytest.fixture(scope="session")
def asterisk_runtime(pytestconfig: pytest.Config, asterisk_settings: Settings) -> AsteriskRuntime:
    def progress(line: str) -> None:
        with _uncaptured(pytestconfig):
            print(line, file=sys.stderr, flush=True)

    try:
        runtime = ensure_asterisk(asterisk_settings.asterisk, progress)
    except SandboxError as exc:
        if os.geteuid() != 0:
            pytest.skip(f"no Asterisk: {exc}")
        raise
    for name in reap_stale_instances(runtime, asterisk_settings):
        progress(f"[sandbox] removed instance {name} left by a run that died")
    return runtime


def _instance(
    runtime: AsteriskRuntime, settings: Settings, minimal: bool
) -> Iterator[AsteriskInstance]:
    instance = AsteriskInstance.for_tests(
        runtime, settings, dialplan=minimal_extensions if minimal else None
    )
    try:
        instance.start()
        yield instance
    finally:
        instance.stop(remove=not KEEP)


@pytest.fixture(scope="session")
def asterisk(
    asterisk_runtime: AsteriskRuntime, asterisk_settings: Settings
) -> Iterator[AsteriskInstance]:
    """A running instance with the full configuration (IVR dialplan), for the session."""
    yield from _instance(asterisk_runtime, asterisk_settings, minimal=False)


@pytest.fixture(scope="session")
def queue_asterisk(
    asterisk_runtime: AsteriskRuntime, asterisk_settings: Settings
) -> Iterator[AsteriskInstance]:
    """A running instance whose dialplan sends every call straight to the default queue."""
    yield from _instance(asterisk_runtime, asterisk_settings, minimal=True)


async def _admin(instance: AsteriskInstance) -> MiniAmi:
    a = instance.config.admin
    return await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret)


@pytest.fixture
async def ami_admin(queue_asterisk: AsteriskInstance) -> AsyncIterator[MiniAmi]:
    """AMI as ``sandbox-admin`` (all rights) on ``queue_asterisk``; members are removed after."""
    client = await _admin(queue_asterisk)
    yield client
    await remove_all_members(client)
    await client.close()


@pytest.fixture
async def ami_controller(queue_asterisk: AsteriskInstance) -> AsyncIterator[MiniAmi]:
    """AMI as the controller user (least privilege) on ``queue_asterisk``."""
    c = queue_asterisk.config.controller
    client = await MiniAmi.connect("127.0.0.1", queue_asterisk.ports.ami, c.username, c.secret)
    yield client
    await client.close()


@pytest.fixture
def asterisk_cli(queue_asterisk: AsteriskInstance):  # type: ignore[no-untyped-def]
    """``asterisk_cli("core show channels")`` -> output."""
    return queue_asterisk.rx


@pytest.fixture
async def agent_phone(queue_asterisk: AsteriskInstance) -> AsyncIterator[SippProcess]:
    """A SIPp UAS on the port every agent endpoint points at: rings 0.3 s, talks 1 s."""
    phone = await start_sipp(
        agent_scenario(ring=0.3, talk=1.0), name="agent", local_port=queue_asterisk.ports.agent_sip
    )
    await asyncio.sleep(0.2)
    yield phone
    await phone.stop()


async def remove_all_members(client: MiniAmi) -> None:
    for entry in await client.list_action("QueueStatus"):
        if entry.get("Event") == "QueueMember":
            await client.action("QueueRemove", Queue=entry["Queue"], Interface=entry["Location"])
