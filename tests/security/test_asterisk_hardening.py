"""The real Asterisk 22 the server runs, seen as an attacker would: the AMI answers on loopback
only, the controller's least-privilege user cannot use CVE-2024-42365 (Originate + Set FILE()
to rewrite configuration), and the version check the controller runs at every login agrees.
(The controller user's refused classes are in tests/integration/test_telephony.py.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from ami import AmiLink
from controller.asterisk_check import AsteriskVersionCheck
from sandbox.advisories import advisories_for
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from tests.integration.conftest import (  # noqa: F401  (pytest fixtures)
    ami_controller,
    asterisk_runtime,
    asterisk_settings,
    queue_asterisk,
)

pytestmark = pytest.mark.asterisk


def _outside_addresses() -> list[str]:
    """This machine's addresses other than loopback (where a remote attacker would connect)."""
    found = set()
    for *_, address in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        found.add(str(address[0]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing address
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(a for a in found if not a.startswith("127."))


def test_ami_answers_on_loopback_only(queue_asterisk: AsteriskInstance) -> None:  # noqa: F811
    assert queue_asterisk.ami_greets()
    outside = _outside_addresses()
    if not outside:
        pytest.skip("this machine has no address besides loopback")
    for address in outside:
        with pytest.raises(OSError):
            socket.create_connection((address, queue_asterisk.ports.ami), timeout=2.0).close()


async def test_cve_2024_42365_originate_cannot_write_files(
    queue_asterisk: AsteriskInstance, ami_controller: MiniAmi,  # noqa: F811
) -> None:
    target = queue_asterisk.host_dir / "spool" / "tmp" / "cve-2024-42365.conf"
    inside = queue_asterisk.ast_dir / "spool" / "tmp" / "cve-2024-42365.conf"
    target.unlink(missing_ok=True)
    answer = await ami_controller.action(
        "Originate", Channel="Local/1300@from-trunk", Application="Set",
        Data=f"FILE({inside},,,al)=exten => 666,1,System(touch /tmp/pwned)", Async="true",
    )
    await asyncio.sleep(2.0)  # an accepted Originate would have run by now
    assert answer["Response"] == "Error", answer
    assert "Forbidden" in answer.get("Message", ""), answer
    assert not target.exists(), "the controller's AMI user wrote a file through Originate"


@pytest.fixture
async def controller_link(
    queue_asterisk: AsteriskInstance,  # noqa: F811
) -> AsyncIterator[tuple[AmiLink, AsteriskVersionCheck]]:
    c = queue_asterisk.config.controller
    link = AmiLink("127.0.0.1", queue_asterisk.ports.ami, c.username, c.secret)
    check = AsteriskVersionCheck(link)
    link.on_state(check.on_state)
    await link.start()
    await link.wait_connected(10)
    yield link, check
    await link.close()


async def test_the_running_asterisk_is_checked_at_login_and_not_vulnerable(
    controller_link: tuple[AmiLink, AsteriskVersionCheck], queue_asterisk: AsteriskInstance,  # noqa: F811
) -> None:
    _, check = controller_link
    async with asyncio.timeout(10):
        while check.version is None:
            await asyncio.sleep(0.05)
    # Asterisk's own answer and the packaged version agree, and neither is vulnerable.
    packaged = queue_asterisk.runtime.version
    assert check.version and check.version in packaged
    assert check.vulnerable_to == ()
    assert advisories_for(packaged) == []
