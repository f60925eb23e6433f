"""The report and wallboard pages in headless Chromium. The wallboard is fed through the app's
real AMI link by a small AMI server: a critical caller waits (highlighted), then an agent
answers — no page reload."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from ami import Event
from ami.frames import Frame
from settings import load_settings
from tests.ami.fake_ami import FakeAmi, event, response
from tests.reports.stubs import save
from tests.reports.test_monthly import october, september
from tests.reports.test_wallboard_live import caller, ivr_queued, member
from web.keys import DATABASE

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _empty_queue_status(frame: Frame) -> Iterator[bytes]:
    aid = frame.get("ActionID") or ""
    yield response(aid, EventList="start", Message="Queue status will follow")
    yield event("QueueStatusComplete", EventList="Complete", ListItems="0", ActionID=aid)


@pytest.fixture
async def fake_asterisk() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    server.replies["queuestatus"] = _empty_queue_status
    yield server
    await server.stop()


@pytest.fixture
async def server(state_dir: Path, db_url: str, fake_asterisk: FakeAmi) -> AsyncIterator[TestServer]:
    from controller.wiring import build_app

    os.environ["LINE1300_SUPERVISOR_PASSWORD"] = "sup-pass"
    settings = load_settings(env={
        "LINE1300_GENERAL_STATE_DIR": str(state_dir), "LINE1300_DATABASE_URL": db_url,
        "LINE1300_AMI_PORT": str(fake_asterisk.port),
        "LINE1300_AMI_USERNAME": fake_asterisk.username,
        "LINE1300_AMI_SECRET": fake_asterisk.secret,
    })
    test_server = TestServer(build_app(settings, with_ami=True))
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/install installs Debian's chromium")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()


async def signed_in_page(browser: Any, server: TestServer, path: str) -> Any:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await page.goto(str(server.make_url(f"/login?next={path}")))
    await page.fill("#username", "supervisor")
    await page.fill("#password", "sup-pass")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")
    return page


async def test_monthly_report_page_with_charts_then_kpis(
    server: TestServer, browser: Any, tmp_path: Path
) -> None:
    await save(server.app[DATABASE], *october(), *september())
    page = await signed_in_page(browser, server, "/reports")
    await page.wait_for_function("document.body.dataset.ready === '1'")
    await page.fill("#month", "2017-10")
    await page.click("#monthly-form button[type=submit]")
    advice = page.locator("[data-section='advice'] tr[data-key='help_request']")
    await advice.locator(".value", has_text="3").wait_for()
    assert (await advice.locator(".previous").inner_text()).strip() == "2"
    assert "↑" in await advice.inner_text()
    assert await page.locator("[data-section='advice'] svg.chart rect.current").count() >= 3
    assert "ตุลาคม 2560" in await page.locator("#monthly-out .heading").inner_text()
    href = await page.get_attribute("#monthly-pdf-th", "href")
    assert href == "/api/reports/monthly?month=2017-10&format=pdf&lang=th"
    await page.screenshot(path=str(tmp_path / "report-monthly.png"), full_page=False)
    await page.click("button[data-tab='kpis']")
    await page.click("#kpi-form button[type=submit]")
    await page.locator("#kpi-out .kpi-table").first.wait_for()
    assert await page.locator("#error").inner_text() == ""


async def test_wallboard_shows_a_waiting_critical_caller_then_the_answer(
    server: TestServer, fake_asterisk: FakeAmi, browser: Any, tmp_path: Path
) -> None:
    page = await signed_in_page(browser, server, "/wallboard")
    await page.wait_for_function("document.body.dataset.socket === 'open'")
    await page.wait_for_selector("[data-queue='counsel-th']")

    fake_asterisk.send_raw(_frame(member("QueueMemberAdded", "counsel-th", "A001")))
    fake_asterisk.send_raw(_frame(ivr_queued("1700000000.7", "critical")))
    fake_asterisk.send_raw(_frame(caller("QueueCallerJoin", "counsel-th", "1700000000.7")))
    tile = page.locator("[data-queue='counsel-th']")
    await tile.locator(".waiting", has_text="1").wait_for()
    critical = tile.locator("li.critical[data-linkedid='1700000000.7']")
    await critical.wait_for()
    assert "+6681****5678" in await critical.inner_text()
    assert "has-critical" in (await tile.get_attribute("class") or "")
    await page.screenshot(path=str(tmp_path / "wallboard-waiting.png"), full_page=True)

    fake_asterisk.send_raw(_frame(caller("QueueCallerLeave", "counsel-th", "1700000000.7")))
    fake_asterisk.send_raw(_frame(member("QueueMemberStatus", "counsel-th", "A001",
                                         status=2, in_call=True)))
    await tile.locator(".waiting", has_text="0").wait_for()
    await tile.locator("[data-state='on_call']", has_text="1").wait_for()
    assert await tile.locator("li").count() == 0
    thai = page.locator("#languages tr[data-language='th'] td[data-state='on_call']")
    assert (await thai.inner_text()).strip() == "1"
    await page.screenshot(path=str(tmp_path / "wallboard-answered.png"), full_page=True)


def _frame(e: Event) -> bytes:
    """An ami.Event back as the bytes Asterisk would send."""
    return event(e.name, {k: v for k, v in e.items if k != "Event"})
