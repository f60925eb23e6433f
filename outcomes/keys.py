"""Typed application state of the outcome form (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from outcomes.service import RecordContact, SaveOutcome
from outcomes.taxonomy import Taxonomy

TAXONOMY: web.AppKey[Taxonomy] = web.AppKey("taxonomy", Taxonomy)
SAVE_OUTCOME: web.AppKey[SaveOutcome] = web.AppKey("save_outcome", SaveOutcome)
RECORD_CONTACT: web.AppKey[RecordContact] = web.AppKey("record_contact", RecordContact)
