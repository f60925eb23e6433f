"""The IVR room in the controller: the start-up check, and the run-time facts the dialplan reads.

With an AMI link (a controller that drives Asterisk), start-up runs the IVR check (every prompt
the dialplan plays exists; a missing one stops start-up naming prompt, language and file) and
starts the loop that publishes each language's next shift hour. Web-only builds skip both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from agent_routing.skills import routing
from shift_schedule.clock import SystemClock
from web.keys import AMI, DATABASE, SETTINGS

from .check import check_ivr
from .next_shift import DatabaseRoster, NextShiftLoop, PublishNextShifts

log = structlog.get_logger(__name__)


def install(app: web.Application) -> None:
    app.cleanup_ctx.append(_ivr_room)


async def _ivr_room(app: web.Application) -> AsyncIterator[None]:
    if AMI not in app:
        yield
        return
    report = check_ivr()
    log.info("ivr.checked", prompts=report.prompts, files=report.files)
    settings = app[SETTINGS]
    publish = PublishNextShifts(
        DatabaseRoster(app[DATABASE], settings.timezone),
        app[AMI],
        SystemClock(),
        routing(),
        settings.timezone,
    )
    loop = NextShiftLoop(publish)
    states = app[AMI].on_state(loop.on_link_state)
    task = asyncio.create_task(loop.run(), name="ivr-next-shift")
    yield
    states.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
