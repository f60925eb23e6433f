"""Use cases on caller flags: flag a number (from a contact, or typed by a supervisor), lift a
flag, and stamp a caller's flags on the contact's stub so the case store sees them too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Protocol

from call_log.bus import CallEnded, CallQueued
from call_log.numbers import normalize
from caller_flags.store import Clock, Flag, FlagStore
from case_stubs.service import Stub
from outcomes.errors import Errors
from outcomes.service import is_handler
from outcomes.taxonomy import FlagKind, Taxonomy
from privacy import mask_number
from storage import Database, audit
from web.accounts import User

REASON_MAX: Final = 500
FIELDS: Final = ("number", "stub_id", "kind", "reason", "days")


class FlagStubs(Protocol):
    """The case-stub service as flags need it (case_stubs.CaseStubService)."""

    async def get(self, stub_id: str, viewer: User) -> dict[str, Any]: ...

    async def add_details(
        self, stub_id: str, details: Mapping[str, Any], *, actor: str | None = None
    ) -> Stub: ...


class FlagNotAllowed(PermissionError):
    pass


class FlagNotFound(LookupError):
    pass


@dataclass(frozen=True)
class FlagRequest:
    kind: FlagKind
    reason: str
    days: int
    number: str | None
    stub_id: str | None


class FlagCaller:
    """Check the request, find the number, store the flag (audited), show it on that contact."""

    def __init__(
        self, db: Database, store: FlagStore, stubs: FlagStubs, taxonomy: Taxonomy, clock: Clock
    ) -> None:
        self.db = db
        self.store = store
        self.stubs = stubs
        self.taxonomy = taxonomy
        self.clock = clock

    async def __call__(self, body: object, actor: User) -> Flag:
        request = self._checked(body, actor)
        number = await self._number(request, actor)
        flag = await self._store(number, request, actor)
        if request.stub_id:
            await stamp(self.db, self.store, self.stubs, request.stub_id, number)
        return flag

    def _checked(self, body: object, actor: User) -> FlagRequest:
        errors = Errors("the caller flag")
        data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        errors.unknown_fields(sorted(str(k) for k in data if k not in FIELDS), FIELDS)
        kind = self.taxonomy.caller_flags.get(str(data.get("kind") or ""))
        if kind is None:
            errors.unknown_choice("kind", data.get("kind"), self.taxonomy.caller_flags.ids)
        reason = str(data.get("reason") or "").strip()
        if not reason:
            errors.required("reason", " (why the number is flagged)", " (เหตุผลที่ทำเครื่องหมาย)")
        elif len(reason) > REASON_MAX:
            errors.too_long("reason", REASON_MAX, len(reason))
        days = _days(data.get("days"), kind, errors)
        number, stub_id = data.get("number") or None, data.get("stub_id") or None
        _which_caller(number, stub_id, actor, errors)
        e164 = _e164(number, errors) if isinstance(number, str) else None
        errors.raise_if_any()
        assert kind is not None
        return FlagRequest(kind, reason, days, e164, str(stub_id) if stub_id else None)

    async def _number(self, request: FlagRequest, actor: User) -> str:
        if request.number is not None:
            return request.number
        assert request.stub_id is not None
        stub = await self.stubs.get(request.stub_id, actor)
        if not is_handler(stub, actor):
            raise FlagNotAllowed("agents flag only the callers of contacts they handled")
        # A handler sees the stub with the full number (case_stubs.service.view_for).
        number = (stub.get("caller") or {}).get("number")
        if not number:
            errors = Errors("the caller flag")
            errors.add("stub_id", "no_number", "the caller's number was withheld: nothing to flag",
                       "ผู้โทรไม่แสดงหมายเลข จึงทำเครื่องหมายไม่ได้")
            errors.raise_if_any()
        return str(number)

    async def _store(self, number: str, request: FlagRequest, actor: User) -> Flag:
        async with self.db.session() as session:
            flag = await self.store.add(
                session, number, request.kind.id, request.reason, actor.username,
                self.clock() + timedelta(days=request.days),
            )
            await audit.record(
                session, actor.username, "caller_flagged", "caller_flag", str(flag.id),
                after={"number": mask_number(number), "kind": flag.kind, "reason": flag.reason,
                       "expires_at": flag.expires_at.isoformat(), "stub_id": request.stub_id},
            )
        return flag


class LiftFlag:
    """A supervisor, or the person who set it, lifts a flag before it expires (audited)."""

    def __init__(self, db: Database, store: FlagStore) -> None:
        self.db = db
        self.store = store

    async def __call__(self, flag_id: int, actor: User) -> None:
        async with self.db.session() as session:
            row = await self.store.get(session, flag_id)
            if row is None or not self.store.is_active(row):
                raise FlagNotFound(flag_id)
            if not actor.is_supervisor and row.created_by != actor.username:
                raise FlagNotAllowed("only a supervisor or the person who set a flag may lift it")
            await self.store.lift(session, row, actor.username)
            await audit.record(
                session, actor.username, "caller_flag_lifted", "caller_flag", str(flag_id),
                before={"number": mask_number(row.number), "kind": row.kind},
            )


class StampFlags:
    """Bus subscriber: a flagged caller's contact carries the flags in its stub (`flags`), from
    the moment the call is queued (its stub is created then), or at its end for a call that
    never reached a queue."""

    def __init__(self, db: Database, store: FlagStore, stubs: FlagStubs) -> None:
        self.db = db
        self.store = store
        self.stubs = stubs

    async def on_event(self, event: object) -> None:
        if isinstance(event, CallQueued | CallEnded) and event.call.caller_number:
            await stamp(self.db, self.store, self.stubs, event.stub_id, event.call.caller_number)


async def stamp(
    db: Database, store: FlagStore, stubs: FlagStubs, stub_id: str, number: str
) -> None:
    """Write the number's active flags into the stub; no new revision when they are already there.
    Flags lifted later stay on contacts made while they were active (that is what was known)."""
    async with db.session() as session:
        flags = await store.active_for(session, number)
    if flags:
        await stubs.add_details(stub_id, {"flags": [_for_stub(f) for f in flags]})


def _for_stub(flag: Flag) -> dict[str, Any]:
    return {"kind": flag.kind, "note": flag.reason, "expires_at": flag.expires_at.isoformat(),
            "source": "caller_flag"}


def _days(value: object, kind: FlagKind | None, errors: Errors) -> int:
    if value in (None, ""):
        return kind.default_days if kind else 0
    limit = kind.max_days if kind else 365
    if isinstance(value, bool) or not isinstance(value, int | str) or not (
            str(value).isascii() and str(value).isdigit()):
        errors.wrong_type("days", "a whole number of days", "จำนวนวันเป็นจำนวนเต็ม")
        return 0
    days = int(value)
    if not 1 <= days <= limit:
        errors.add("days", "out_of_range", f"between 1 and {limit} days for this kind of flag",
                   f"ระหว่าง 1 ถึง {limit} วันสำหรับเครื่องหมายประเภทนี้")
    return days


def _e164(number: str, errors: Errors) -> str | None:
    e164 = normalize(number).e164
    if e164 is None:
        errors.add("number", "bad_number", "not a phone number (e.g. 0812345678 or +95...)",
                   "ไม่ใช่หมายเลขโทรศัพท์ (เช่น 0812345678 หรือ +95...)")
    return e164


def _which_caller(number: object, stub_id: object, actor: User, errors: Errors) -> None:
    if bool(number) == bool(stub_id):
        errors.add("number", "one_of", "give either the contact (stub_id) or the number",
                   "ระบุรายการติดต่อ (stub_id) หรือหมายเลขอย่างใดอย่างหนึ่ง")
    elif number and not actor.is_supervisor:
        errors.add("number", "not_allowed",
                   "agents flag a caller from a contact they handled (stub_id), not by number",
                   "เจ้าหน้าที่ทำเครื่องหมายได้จากรายการติดต่อที่ตนรับเท่านั้น")
    elif number and not isinstance(number, str):
        errors.wrong_type("number", "text", "ข้อความ")

