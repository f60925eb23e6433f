"""The agent page in headless Chromium: the pop arrives, critical in red, with the caller's flags;
a bad outcome shows its messages next to the fields; a good one lands in the stub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import select

from case_stubs.models import StubRow
from screen_pop.keys import POP_HUB
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def _text(page: Page, selector: str) -> str:
    """The element's textContent (None only for a document or a doctype, never here)."""
    text = await page.text_content(selector)
    assert text is not None, selector
    return text


async def _signed_in_page(desk: Desk, browser: Browser, username: str) -> Page:
    base = str(desk.client.make_url("/"))[:-1]
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await page.goto(f"{base}/login?next=/agent")
    await page.fill("#username", username)
    await page.fill("#password", "agent-pass")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/agent")
    await page.wait_for_function("document.getElementById('link').textContent.includes('●')")
    return page


async def test_agent_gets_the_pop_and_saves_an_outcome(
    desk: Desk, browser: Browser, tmp_path: Path
) -> None:
    sup = await desk.sign_in("supervisor", "sup-pass")
    r = await sup.write("POST", "/api/caller-flags", json={
        "number": "0812345678", "kind": "repeat", "reason": "โทรมาทุกคืนเรื่องเดิม"})
    assert r.status == 201
    page = await _signed_in_page(desk, browser, "agent1")
    call = AmiCall(caller="0812345678", priority="critical", path=("th", "emergency"),
                   queue="critical-th")

    await desk.feed(call.arrives(), call.rings("A001"))
    await page.wait_for_selector("#pop-number")
    assert await page.text_content("#pop-number") == "+6681****5678"
    assert await page.text_content("#pop-path") == "ไทย → เหตุฉุกเฉิน"
    assert "ไทย" in await _text(page, "#pop-country")
    badge = page.locator(".pop [data-priority=critical]")
    assert await badge.text_content() == "วิกฤต — ฉุกเฉิน"
    assert await badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(185, 28, 28)"
    assert "โทรมาทุกคืนเรื่องเดิม" in await _text(page, ".pop .flags")

    await desk.feed(call.answered_by("A001"))
    await page.wait_for_function(
        "document.getElementById('pop-number').textContent === '+66812345678'")
    form = page.locator("#outcome")
    await form.locator("[name=category]").select_option("referral")
    await form.locator("[name=district]").fill("บางรัก")
    await form.locator("button[type=submit]").click()
    district_error = form.locator("[data-field=district] .field-error")
    await district_error.wait_for()
    assert await district_error.text_content() == "ระบุอำเภอ/เขตแล้ว ต้องระบุจังหวัดด้วย"
    assert await form.locator("[data-field=problem_types] .field-error").text_content()
    await page.screenshot(path=str(tmp_path / "agent-errors.png"), full_page=True)

    await form.locator("[name=province]").select_option("TH-10")
    await form.locator("[name=problem_types][value=domestic_violence]").check()
    await form.locator("[name=target_group]").select_option("woman")
    await form.locator("[name='referral.urgency']").select_option("critical")
    await form.locator("[name='referral.destination.kind']").select_option("department")
    await form.locator("[name='referral.destination.id']").select_option("dwf")
    await form.locator("[name=notes]").fill("ถูกสามีทำร้าย ส่งต่อ สค.")
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("#outcome.hidden", state="attached")
    assert await page.text_content("#outcome-for") == "บันทึกแล้ว ส่งเข้าระบบรับเรื่องแล้ว"

    async with desk.db.session() as session:
        stub = (await session.execute(
            select(StubRow).where(StubRow.call_id == call.linkedid))).scalar_one()
    assert stub.body["outcome"]["referral"] == {
        "urgency": "critical", "destination": {"kind": "department", "id": "dwf", "country": None}}
    assert stub.body["outcome"]["district"] == "บางรัก"
    assert stub.body["outcome"]["recorded_by"]["id"] == "A001"
    pushed = await desk.case_store.wait_for(stub.id, lambda b: b["outcome"] is not None)
    assert pushed["outcome"]["notes"] == "ถูกสามีทำร้าย ส่งต่อ สค."


async def test_agent_records_a_walk_in_from_the_page(desk: Desk, browser: Browser) -> None:
    page = await _signed_in_page(desk, browser, "agent1")
    form = page.locator("#contact")
    await form.locator("button[type=submit]").click()
    await form.locator("[data-field=channel] .field-error").wait_for()

    await form.locator("[name=channel]").select_option("walk_in")
    await form.locator("[name=caller_number]").fill("0891112222")
    await form.locator("summary").click()
    await form.locator("[name=category]").select_option("information_msdhs")
    await form.locator("button[type=submit]").click()
    saved = form.locator(".saved")
    await saved.wait_for()
    await page.wait_for_function(
        "document.querySelector('#contact .saved').textContent.length > 0")
    saved_text = await saved.text_content()
    assert saved_text is not None
    stub_id = saved_text.rsplit(" ", 1)[-1]

    async with desk.db.session() as session:
        stub = await session.get(StubRow, stub_id)
    assert stub is not None
    assert stub.body["channel"] == "walk_in"
    assert stub.body["caller"]["number"] == "+66891112222"
    assert stub.body["outcome"]["category"] == "information_msdhs"


async def test_the_page_reconnects_by_itself_and_gets_its_call_back(
    desk: Desk, browser: Browser
) -> None:
    page = await _signed_in_page(desk, browser, "agent1")
    call = AmiCall(caller="0845556666")
    await desk.feed(call.arrives(), call.rings("A001"), call.answered_by("A001"))
    await page.wait_for_function(
        "window.L1300_LAST_POP && window.L1300_LAST_POP.stub.answered_at")
    before = await page.evaluate("window.L1300_LAST_POP.received_at_page")

    for conn in desk.app[POP_HUB].connections("A001"):
        conn.shut(1013, "test: too slow")  # as the hub does to a page that stopped reading
    await page.wait_for_function(
        "document.getElementById('link').textContent.includes('○')")
    await page.wait_for_function(
        "document.getElementById('link').textContent.includes('●')")

    await page.wait_for_function(
        f"window.L1300_LAST_POP.received_at_page > {before}")  # replayed by the server
    assert await page.text_content("#pop-number") == "+66845556666"
    assert len(desk.app[POP_HUB].connections("A001")) == 1
