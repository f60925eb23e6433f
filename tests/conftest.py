"""Fixtures shared by every test room: settings in a temporary state dir, a migrated database.

The suite runs on SQLite by default; `LINE1300_TEST_DATABASE_URL=postgresql+psycopg://...`
runs the same tests on PostgreSQL (scripts/test does both).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from settings import Settings, load_settings
from storage import Database, sync_url, upgrade_to_head

PG_URL = os.environ.get("LINE1300_TEST_DATABASE_URL", "")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a new schema-less PostgreSQL database."""
    if not PG_URL:
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        upgrade_to_head(url)
        yield url
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    yield db
    await db.close()


@pytest.fixture
def settings(state_dir: Path, db_url: str) -> Settings:
    env = {
        "LINE1300_GENERAL_STATE_DIR": str(state_dir),
        "LINE1300_DATABASE_URL": db_url,
        # Never the developer's running Asterisk: whole-app tests would reconcile its calls
        # and purge its recordings.
        "LINE1300_ASTERISK_RECORDS_DIR": str(state_dir / "asterisk-records"),
    }
    return load_settings(env=env)


class Signed:
    """An aiohttp test client signed in as one user; adds the CSRF header to writes."""

    def __init__(self, client: TestClient[web.Request, web.Application], csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def get(
        self, path: str, *, params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Awaitable[ClientResponse]:
        return self.client.get(path, params=params, headers=headers)

    def write(
        self, method: str, path: str, *, json: object = None, data: object = None,
        params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
    ) -> Awaitable[ClientResponse]:
        """`json` and `data` as aiohttp takes them (a JSON value; bytes, a dict or FormData)."""
        sent = {**(headers or {}), "X-CSRF-Token": self.csrf}
        return self.client.request(
            method, path, json=json, data=data, params=params, headers=sent
        )


async def sign_in(
    client: TestClient[web.Request, web.Application], username: str, password: str
) -> Signed:
    r = await client.post("/api/login", json={"username": username, "password": password})
    assert r.status == 200, await r.text()
    return Signed(client, (await r.json())["csrf"])


@pytest.fixture
async def web_app(settings: Settings) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The whole web app (every room's routes) without AMI, with users `supervisor`
    (password 'sup-pass') and `agent1` (password 'agent-pass', agent id 'A001')."""
    from controller.wiring import build_app
    from web.accounts import Role, create_user
    from web.keys import DATABASE

    os.environ["LINE1300_SUPERVISOR_PASSWORD"] = "sup-pass"
    app = build_app(settings, with_ami=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    async with app[DATABASE].session() as session:
        await create_user(session, "agent1", "Agent One", Role.AGENT, "agent-pass", agent_id="A001")
    yield client
    await client.close()


from aiohttp import ClientResponse, web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

# The PDPA log audit: every log line of the run is checked for full caller numbers at the end.
from tests.security.log_audit import pytest_configure, pytest_sessionfinish  # noqa: E402,F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A real-Asterisk test may be run a second time, never more, and the run says so.

    They place real SIP calls whose DTMF and timers run in real time; on a 2-core machine a
    burst of load can delay an RTP key past Asterisk's digit timeout. A second failure fails.
    """
    for item in items:
        if item.get_closest_marker("asterisk") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
