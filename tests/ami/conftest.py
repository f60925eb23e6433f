from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ami import AmiLink, Backoff
from tests.ami.fake_ami import FakeAmi, LinkFactory

# Short timings keep the suite fast; each test that depends on one says so.
FAST_BACKOFF = Backoff(initial=0.01, maximum=0.05, multiplier=2.0, jitter=0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.stop()


@pytest.fixture
async def make_link(fake: FakeAmi) -> AsyncIterator[LinkFactory]:
    links: list[AmiLink] = []

    def factory(**overrides: Any) -> AmiLink:
        options: dict[str, Any] = {
            "action_timeout": 1.0,
            "ping_interval": 30.0,
            "ping_timeout": 1.0,
            "connect_timeout": 1.0,
            "backoff": FAST_BACKOFF,
        }
        options.update(overrides)
        link = AmiLink(fake.host, fake.port, fake.username, fake.secret, **options)
        links.append(link)
        return link

    yield factory
    for link in links:
        await link.close(drain_timeout=0.2)


@pytest.fixture
async def link(make_link: LinkFactory) -> AmiLink:
    ready = make_link()
    await ready.start()
    await ready.wait_connected(2.0)
    return ready
