"""Use cases of the agent desk: save a contact's outcome, record a contact that was not a call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from case_stubs.service import Stub
from outcomes.contact_form import ContactForm, ContactValidator
from outcomes.validate import OutcomeValidator
from web.accounts import User

OnSaved = Callable[[str], None]


class NotYours(PermissionError):
    """An agent tried to record the outcome of a contact another agent handled."""


class OutcomeStubs(Protocol):
    """The case-stub service as these use cases need it (case_stubs.CaseStubService)."""

    async def get(self, stub_id: str, viewer: User) -> dict[str, Any]: ...

    async def record_outcome(
        self, stub_id: str, outcome: Mapping[str, Any], actor: User
    ) -> Stub: ...

    async def create_contact(
        self, *, channel: str, dialed: str, caller_number: str | None, language: str,
        priority: str, actor: User, notes: str | None = None, line: str = "other",
        caller_country: str | None = None, received_at: datetime | None = None,
        outcome: Mapping[str, Any] | None = None,
    ) -> Stub: ...


class SaveOutcome:
    """Validate, check the agent handled the contact, store (new revision, pushed), close pops."""

    def __init__(
        self, stubs: OutcomeStubs, validator: OutcomeValidator, on_saved: OnSaved
    ) -> None:
        self.stubs = stubs
        self.validator = validator
        self.on_saved = on_saved

    async def __call__(self, stub_id: str, body: object, actor: User) -> Stub:
        outcome = self.validator.validate(body)
        await self._check_handled_by(stub_id, actor)
        stub = await self.stubs.record_outcome(stub_id, outcome, actor)
        self.on_saved(stub_id)
        return stub

    async def _check_handled_by(self, stub_id: str, actor: User) -> None:
        if not actor.is_supervisor and not is_handler(await self.stubs.get(stub_id, actor), actor):
            raise NotYours(stub_id)


class RecordContact:
    """A walk-in, LINE, social-media, ESS Help Me or referred contact becomes a stub like a call."""

    def __init__(self, stubs: OutcomeStubs, validator: ContactValidator) -> None:
        self.stubs = stubs
        self.validator = validator

    async def __call__(self, body: object, actor: User) -> Stub:
        form = self.validator.validate(body)
        return await self.stubs.create_contact(
            channel=form.channel,
            dialed=form.channel,  # the contract's `dialed` for a non-phone contact: its channel
            caller_number=form.caller_number,
            caller_country=form.caller_country,
            language=form.language,
            priority=form.priority,
            actor=actor,
            notes=_notes(form),
            received_at=form.received_at,
            outcome=form.outcome,
        )


def is_handler(stub: Mapping[str, Any], user: User) -> bool:
    """Supervisors, or the agent the contact was with (the stub's `agent`: who answered the call
    or recorded the contact)."""
    agent = stub.get("agent") or {}
    return user.is_supervisor or (user.agent_id is not None and agent.get("id") == user.agent_id)


def _notes(form: ContactForm) -> str | None:
    return f"Reference: {form.reference}" if form.reference else None
