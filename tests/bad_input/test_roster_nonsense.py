"""Roster changes that make no sense, sent by a supervisor through the REST API: each gets a 4xx
whose JSON says what is wrong, and the roster (the week as the API shows it, the assignment and
absence tables, the audit trail) is exactly as it was. Ids too big for the database, digits that
are not ASCII, days that do not exist, agents and shifts that do not exist, an agent covering or
swapping with themselves..."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from shift_schedule.tables import AbsenceRow, AssignmentRow
from storage.audit import AuditEntry
from tests.conftest import Signed, sign_in
from web.keys import DATABASE

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
HUGE = 10**30

Case = tuple[str, str, Any]
NONSENSE: list[Case] = [
    ("POST", "/api/roster/assignments", {"agent_id": "A999", "shift_id": "night", "day": TOMORROW}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "lunch", "day": TOMORROW}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "night",
                                         "day": "2025-02-30"}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "night",
                                         "day": "1999-01-01"}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "night", "day": TOMORROW,
                                         "covers_agent_id": "A001"}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "night", "day": TOMORROW,
                                         "covers_agent_id": "A999"}),
    ("POST", "/api/roster/assignments", {"agent_id": "A001", "shift_id": "morning",
                                         "day": TOMORROW}),  # already on it
    ("POST", "/api/roster/assignments", {"agent_id": ["A001"], "shift_id": None, "day": 20250101}),
    ("POST", "/api/roster/assignments", [{"agent_id": "A001"}]),
    ("POST", "/api/roster/assignments", "not json at all"),
    ("POST", "/api/roster/swap", {"first": 1, "second": 1}),
    ("POST", "/api/roster/swap", {"first": HUGE, "second": HUGE + 1}),
    ("POST", "/api/roster/swap", {"first": -5, "second": 999999}),
    ("POST", "/api/roster/assignments/999999/move", {"shift_id": "night", "day": TOMORROW}),
    ("POST", f"/api/roster/assignments/{HUGE}/move", {"shift_id": "night", "day": TOMORROW}),
    ("DELETE", f"/api/roster/assignments/{HUGE}", None),
    ("DELETE", "/api/roster/assignments/²", None),  # str.isdigit() says yes, int() says no
    ("DELETE", "/api/roster/assignments/١٢", None),  # Arabic-Indic digits
    ("DELETE", "/api/roster/assignments/-1", None),
    ("DELETE", f"/api/roster/absences/{HUGE}", None),
    ("POST", "/api/roster/absences", {"agent_id": "A001", "day": TOMORROW, "reason": ""}),
    ("POST", "/api/roster/absences", {"agent_id": "A001", "day": TOMORROW, "reason": "x" * 5000}),
    ("POST", "/api/roster/absences", {"agent_id": "A001", "day": TOMORROW, "reason": "sick",
                                      "cover_agent_id": "A001"}),
    ("POST", "/api/roster/absences", {"agent_id": "A001", "day": TOMORROW, "reason": "sick",
                                      "shift_id": "lunch"}),
    ("POST", "/api/roster/absences", {"agent_id": "A001", "day": "tomorrow", "reason": "sick"}),
    ("POST", "/api/roster/shifts", {"id": "same", "name_th": "ก", "name_en": "Same",
                                    "start": "08:00", "end": "08:00"}),
    ("POST", "/api/roster/shifts", {"id": "bad", "name_th": "ก", "name_en": "Bad",
                                    "start": "12:60", "end": "13:00"}),
    ("POST", "/api/roster/shifts", {"id": "morning", "name_th": "ก", "name_en": "Again",
                                    "start": "01:00", "end": "02:00"}),
    ("PUT", "/api/roster/shifts/nope", {"name_th": "ก", "name_en": "X", "start": "01:00",
                                        "end": "02:00"}),
    ("POST", "/api/roster/agents", {"id": "A900", "name": "X", "endpoint": "agent-999",
                                    "languages": ["th"], "skills": ["counselling"]}),
    ("POST", "/api/roster/agents", {"id": "A901", "name": "X", "endpoint": "agent-001",
                                    "languages": ["th"], "skills": ["counselling"]}),
    ("POST", "/api/roster/agents", {"id": "A902", "name": "X", "endpoint": "../../etc/passwd",
                                    "languages": ["th"], "skills": ["counselling"]}),
    ("POST", "/api/roster/agents", {"id": "A903", "name": "X", "endpoint": "agent-077",
                                    "languages": ["xx"], "skills": ["juggling"]}),
    ("POST", "/api/roster/agents", {"id": "A904", "name": "X" * 5000, "endpoint": "agent-078",
                                    "languages": ["th"], "skills": ["counselling"]}),
    ("PUT", "/api/roster/agents/A999", {"name": "X", "endpoint": "agent-079", "languages": ["th"],
                                        "skills": ["counselling"]}),
    ("POST", "/api/roster/agents/A999/account", {"username": "ghost"}),
    ("POST", "/api/roster/agents/A001/account", {"username": "../Root"}),
]


async def _state(app: web.Application, sup: Signed) -> tuple[Any, int, int, int]:
    """The week as shown, and the rows of assignments, absences and audited changes."""
    week = await (await sup.get("/api/roster/week")).json()
    changes = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.not_like("login%"))
    async with app[DATABASE].session() as s:
        counts = [int((await s.execute(select(func.count()).select_from(t))).scalar_one())
                  for t in (AssignmentRow, AbsenceRow)]
        audited = int((await s.execute(changes)).scalar_one())
    return week, counts[0], counts[1], audited


@pytest.fixture
async def supervisor(web_app: TestClient[web.Request, web.Application]) -> Signed:
    return await sign_in(web_app, "supervisor", "sup-pass")


async def test_nonsense_roster_changes_are_refused_clearly_and_change_nothing(
    web_app: TestClient[web.Request, web.Application], supervisor: Signed,
) -> None:
    app = web_app.app
    before = await _state(app, supervisor)
    unclear = []
    for method, path, body in NONSENSE:
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, str) else {"json": body}
        r = await supervisor.write(method, path, **kwargs)
        text = await r.text()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not (400 <= r.status < 500 and isinstance(answer, dict) and answer.get("error")):
            unclear.append(f"{method} {path} {str(body)[:60]} -> {r.status} {text[:120]}")
    assert unclear == [], "\n".join(unclear)
    assert await _state(app, supervisor) == before
