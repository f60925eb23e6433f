"""The audit trail (PDPA): every read of a case stub through the API is written down, with who
read it; so is every change (the outcome an agent saves). Read back from the database's own
audit_log table, not from the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from case_stubs.keys import STUB_SERVICE
from storage.audit import AuditEntry
from tests.conftest import sign_in
from web.accounts import Role, User
from web.keys import DATABASE

AGENT = User(2, "agent1", "Agent One", Role.AGENT, "A001")


async def audit_rows(app: web.Application, stub_id: str) -> list[tuple[str, str]]:
    async with app[DATABASE].session() as s:
        rows = await s.execute(
            select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.subject_type == "case_stub", AuditEntry.subject_id == stub_id)
            .order_by(AuditEntry.id))
        return [(actor, action) for actor, action in rows.all()]


async def test_every_read_and_change_of_a_stub_is_audited(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    app = web_app.app
    stub = await app[STUB_SERVICE].create_contact(
        channel="walk_in", dialed="walk-in", caller_number="+66812345678", language="th",
        priority="normal", actor=AGENT, notes="walk-in")
    before = await audit_rows(app, stub.id)
    assert before == [("agent1", "contact_created")]

    supervisor = await sign_in(web_app, "supervisor", "sup-pass")
    assert (await supervisor.get(f"/api/case-stubs/{stub.id}")).status == 200
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    listed = await supervisor.get("/api/case-stubs", params={"since": since})
    assert stub.id in [s["id"] for s in (await listed.json())["stubs"]]

    web_app.session.cookie_jar.clear()  # another browser
    agent = await sign_in(web_app, "agent1", "agent-pass")
    saved = await agent.write("PUT", f"/api/case-stubs/{stub.id}/outcome",
                              json={"category": "information_msdhs"})
    assert saved.status == 200, await saved.text()
    assert (await agent.get(f"/api/case-stubs/{stub.id}")).status == 200

    assert (await audit_rows(app, stub.id))[len(before):] == [
        ("supervisor", "view"), ("supervisor", "view"),
        ("agent1", "view"), ("agent1", "outcome_saved"),  # saving reads the stub first
        ("agent1", "view"),
    ]


async def test_a_refused_read_leaves_no_data_and_an_unknown_stub_no_entry(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    app = web_app.app
    r = await web_app.get("/api/case-stubs/6f1f2f7e-1111-4222-8333-944445555666")
    assert r.status == 401  # nobody signed in
    supervisor = await sign_in(web_app, "supervisor", "sup-pass")
    missing = "6f1f2f7e-1111-4222-8333-944445555666"
    r = await supervisor.get(f"/api/case-stubs/{missing}")
    assert r.status == 404 and (await r.json())["stub_id"] == missing
    assert await audit_rows(app, missing) == []
