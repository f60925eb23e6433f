"""The media pages in headless Chromium: a callback message on the supervisor page (audio that
plays, transcript, suggested priority), prompt upload errors, and an agent's own recordings."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.recordings.conftest import MESSAGES, Site, callback_request, recent, recorded

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at /usr/bin/chromium")
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()


async def signed_in(site: Site, browser: Any, path: str, user: str, password: str) -> Any:
    base = str(site.client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 1400, "height": 1100})
    await page.goto(f"{base}{path}")
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']", timeout=20000)
    return page


async def test_callback_message_on_the_supervisor_page(
    site: Site, browser: Any, korean_message: Path, tmp_path: Path
) -> None:
    s = recent(1, caller="+85512345678")
    day = time.strftime("%Y/%m/%d", time.gmtime(s.start))
    ast_path = f"{MESSAGES}/{day}/{s.linkedid}.wav"
    shutil.copyfile(korean_message, site.host(ast_path))
    await site.call(callback_request(s, ast_path, lang="ko"))
    await site.process()

    page = await signed_in(site, browser, "/supervisor", "supervisor", "sup-pass")
    row = page.locator("#messages-card tr[data-media]")
    await row.wait_for(timeout=10000)
    assert "월요일" in await row.locator(".transcript").inner_text()
    assert await row.locator(".tstate.ok").count() == 1
    assert (await row.locator(".suggest").inner_text()).strip() in ("ปกติ", "Normal")
    # The audio element loads the recording with the page's session: the server's file plays.
    duration = await row.locator("audio").evaluate(
        """(el) => new Promise((ok, fail) => {
             el.addEventListener("loadedmetadata", () => ok(el.duration));
             el.addEventListener("error", () => fail(String(el.error && el.error.code)));
             el.preload = "metadata"; el.load(); })"""
    )
    assert abs(duration - 2.5) < 0.6
    played = await site.audit("recording_played")
    # Listened to, and by the supervisor only. (Chromium may ask for the file's start twice for
    # one element; one entry per listening is checked request by request in test_http.py.)
    assert played and {e.actor for e in played} == {"supervisor"}
    await page.screenshot(path=str(tmp_path / "supervisor-messages.png"), full_page=True)
    if os.environ.get("LINE1300_SCREENSHOT_DIR"):
        shutil.copy(tmp_path / "supervisor-messages.png", os.environ["LINE1300_SCREENSHOT_DIR"])


async def test_prompt_upload_from_the_page(site: Site, browser: Any, tmp_path: Path) -> None:
    page = await signed_in(site, browser, "/recordings", "supervisor", "sup-pass")
    await page.select_option("#prompt-id", "goodbye")
    await page.select_option("#prompt-lang", "th")
    fake = tmp_path / "greeting.wav"
    fake.write_text("not really a recording")
    await page.set_input_files("#prompt-file", str(fake))
    await page.click("#prompt-form button[type=submit]")
    result = page.locator("#prompt-result.error")
    await result.wait_for(timeout=10000)
    assert "the file is not audio" in await result.inner_text()

    real = tmp_path / "real.wav"
    subprocess.run(["sox", "-n", "-r", "22050", "-c", "1", str(real), "synth", "1", "sine", "500",
                    "vol", "0.3"], check=True)
    await page.set_input_files("#prompt-file", str(real))
    await page.click("#prompt-form button[type=submit]")
    done = page.locator("#prompt-result.ok")
    await done.wait_for(timeout=15000)
    assert "goodbye [th]" in await done.inner_text()
    assert site.paths.sounds_dir is not None
    assert (site.paths.sounds_dir / "th" / "goodbye.wav").is_file()


async def test_agent_sees_only_their_recordings(site: Site, browser: Any) -> None:
    mine = await recorded(site, 1, agent="A001")
    await recorded(site, 2, agent="A005")
    page = await signed_in(site, browser, "/recordings", "agent1", "agent-pass")
    rows = page.locator("#recordings tr[data-media]")
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-media") == mine["id"]
    assert await page.locator("#messages-card").is_hidden()
    assert await page.locator("#prompt-card").is_hidden()
