"""The supervisor page in headless Chromium: sign in, see the seed roster, mark tomorrow's
Khmer interpreter absent, and see the coverage warning appear (and the change stored)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in

if TYPE_CHECKING:  # imported for real only when the browser tests run (importorskip)
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    playwright_api = pytest.importorskip("playwright.async_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at /usr/bin/chromium")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()


async def test_supervisor_marks_absence_and_sees_the_warning(
    web_app: TestClient[web.Request, web.Application], browser: Browser, tmp_path: Path,
) -> None:
    base = str(web_app.make_url("/")).rstrip("/")
    tomorrow = (datetime.now(ZoneInfo("Asia/Bangkok")).date() + timedelta(days=1)).isoformat()
    page = await browser.new_page(viewport={"width": 1400, "height": 1100})
    await page.goto(f"{base}/supervisor")
    await page.fill("#username", "supervisor")
    await page.fill("#password", "sup-pass")
    await page.click("button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']", timeout=15000)

    cell = page.locator(f"td.cell[data-shift='afternoon'][data-day='{tomorrow}']")
    assert (await cell.locator(".count").inner_text()).strip() == "18"
    assert await cell.locator(".badge").count() == 0
    await cell.click()
    row = page.locator("#cell-assignments tr[data-agent='A037']")
    await row.locator("button.absent").click()
    await row.locator("input[name=reason]").fill("อบรม")
    await row.locator("button[data-do='absent-ok']").click()

    warning = page.locator("#cell-warnings li.critical")
    await warning.wait_for(timeout=10000)
    assert "ភាសាខ្មែរ" in await warning.inner_text()
    assert (await cell.locator(".count").inner_text()).strip() == "17"
    assert await cell.locator(".badge.critical").inner_text() == "⚠ km"
    await page.screenshot(path=str(tmp_path / "supervisor.png"), full_page=True)
    if os.environ.get("LINE1300_SCREENSHOT_DIR"):
        await page.screenshot(path=os.path.join(os.environ["LINE1300_SCREENSHOT_DIR"],
                                                "supervisor.png"), full_page=True)

    # The database's own record, not the page's: the absence is stored and audited.
    api = await sign_in(web_app, "supervisor", "sup-pass")
    week = await (await api.get(f"/api/roster/week?start={tomorrow}")).json()
    afternoon = next(c for c in week["cells"]
                     if c["shift_id"] == "afternoon" and c["day"] == tomorrow)
    absent = [a for a in afternoon["assignments"] if a["absence"]]
    assert [(a["agent_id"], a["absence"]["reason"]) for a in absent] == [("A037", "อบรม")]
    trail = await (await api.get("/api/roster/audit?limit=1")).json()
    assert trail["entries"][0]["action"] == "roster.absent"
