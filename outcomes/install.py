"""Plugs the outcome form into the app: taxonomy, outcome saving, non-call contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from case_stubs.keys import STUB_SERVICE
from outcomes.api import setup_routes
from outcomes.contact_form import ContactValidator
from outcomes.keys import RECORD_CONTACT, SAVE_OUTCOME, TAXONOMY
from outcomes.service import RecordContact, SaveOutcome
from outcomes.taxonomy import taxonomy
from outcomes.validate import OutcomeValidator
from screen_pop.keys import POP_FEED


def install(app: web.Application) -> None:
    app[TAXONOMY] = taxonomy()
    setup_routes(app)
    app.cleanup_ctx.append(_services)


async def _services(app: web.Application) -> AsyncIterator[None]:
    stubs, tax = app[STUB_SERVICE], app[TAXONOMY]
    outcomes = OutcomeValidator(tax)
    # A saved outcome closes the contact on the agent's page (every open tab).
    app[SAVE_OUTCOME] = SaveOutcome(stubs, outcomes, on_saved=app[POP_FEED].outcome_saved)
    app[RECORD_CONTACT] = RecordContact(stubs, ContactValidator(tax, outcomes, _utcnow))
    yield


def _utcnow() -> datetime:
    return datetime.now(UTC)
