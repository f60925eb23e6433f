"""The reports' HTTP API through the whole app: formats, errors, roles."""

from __future__ import annotations

import csv
import io

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in
from tests.reports.stubs import Contact, local, save
from tests.reports.test_monthly import october, september
from web.keys import DATABASE


async def _seed(web_app: TestClient[web.Request, web.Application]) -> None:
    await save(web_app.app[DATABASE], *october(), *september())


async def test_monthly_json_csv_and_pdf(web_app: TestClient[web.Request, web.Application]) -> None:
    await _seed(web_app)
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/reports/monthly?month=2560-10")
    assert r.status == 200
    body = await r.json()
    assert body["month"] == "2017-10" and body["period"]["th"] == "ประจำเดือนตุลาคม 2560"
    total = next(s for s in body["sections"] if s["key"] == "service")["rows"][0]
    assert (total["value"], total["previous"], total["trend"]) == (16, 5, "↑")

    r = await sup.get("/api/reports/monthly?month=2017-10&format=csv")
    assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    by_item = {(row["section"], row["item"]): row for row in rows}
    assert by_item[("advice", "help_request")]["value"] == "3"
    assert by_item[("advice", "help_request")]["previous"] == "2"
    assert by_item[("advice", "help_request")]["trend"] == "↑"
    assert by_item[("problems", "begging.bangkok")]["item_th"] == "กทม."

    r = await sup.get("/api/reports/monthly?month=2017-10&format=pdf&lang=en")
    assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
    assert (await r.read()).startswith(b"%PDF-")


async def test_bad_input_gets_a_json_error_naming_it(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/reports/monthly?month=October")
    assert r.status == 400
    assert (await r.json())["parameter"] == "month"
    r = await sup.get("/api/reports/monthly?format=docx")
    assert r.status == 400 and (await r.json())["allowed"] == ["json", "csv", "pdf"]
    r = await sup.get("/api/reports/provincial?from=2024-02-01&to=2024-08-28")
    assert r.status == 400 and (await r.json())["fields"] == ["province"]
    r = await sup.get("/api/reports/provincial?province=TH-99&from=2024-02-01&to=2024-08-28")
    assert r.status == 400 and "TH-54" in (await r.json())["known"]
    r = await sup.get("/api/reports/kpis?from=2024-03-01&to=2024-02-01")
    assert r.status == 400
    r = await sup.get("/api/reports/kpis?language=xx")
    assert r.status == 400 and "km" in (await r.json())["known"]


async def test_agents_may_not_read_reports(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    agent = await sign_in(web_app, "agent1", "agent-pass")
    for path in ("/api/reports/monthly", "/api/reports/kpis", "/api/wallboard"):
        assert (await agent.get(path)).status == 403
    assert (await agent.get("/reports")).status == 403


async def test_provincial_report_over_http(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await save(web_app.app[DATABASE], Contact(local(2024, 3, 1), outcome={
        "category": "help_request", "province": "TH-54", "district": "ลอง", "sex": "female"}))
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/reports/provincial?province=TH-54&from=2024-02-01&to=2024-08-28")
    body = await r.json()
    districts = next(s for s in body["sections"] if s["key"] == "districts")
    assert districts["rows"][0]["label"]["th"] == "ลอง" and districts["rows"][0]["value"] == 1


async def test_wallboard_socket_streams_boards_and_says_1001_on_shutdown(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await sign_in(web_app, "supervisor", "sup-pass")
    ws = await web_app.ws_connect("/ws/wallboard")
    board = await ws.receive_json(timeout=10)
    assert {q["name"] for q in board["queues"]} >= {"counsel-th", "intl-km"}
    assert board["today"]["service_level_seconds"] == 20
    await web_app.server.close()
    closing = await ws.receive(timeout=10)
    assert closing.type is WSMsgType.CLOSE and closing.data == 1001


async def test_agents_may_not_open_the_wallboard_socket(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await sign_in(web_app, "agent1", "agent-pass")
    r = await web_app.get("/ws/wallboard")
    assert r.status == 403
