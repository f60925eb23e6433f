"""Checks a non-call contact (walk-in, LINE, social media, ESS Help Me, referrals) before it
becomes a case stub, with the same per-field messages as the outcome form."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from call_log.numbers import normalize
from outcomes.errors import Errors, Invalid
from outcomes.taxonomy import Taxonomy
from outcomes.validate import OutcomeValidator

FIELDS: Final = (
    "channel", "received_at", "caller_number", "language", "priority", "reference", "outcome",
)
PRIORITIES: Final = ("critical", "urgent", "normal")
REFERENCE_MAX: Final = 200
MAX_AGE: Final = timedelta(days=365)
CLOCK_SKEW: Final = timedelta(minutes=5)
_BCP47: Final = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class ContactForm:
    channel: str
    received_at: datetime
    caller_number: str | None
    caller_country: str | None
    language: str
    priority: str
    reference: str | None
    outcome: dict[str, Any] | None


class ContactValidator:
    def __init__(
        self, taxonomy: Taxonomy, outcomes: OutcomeValidator, clock: Callable[[], datetime]
    ) -> None:
        self.tax = taxonomy
        self.outcomes = outcomes
        self.clock = clock

    def validate(self, data: object) -> ContactForm:
        errors = Errors("the contact")
        body: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            errors.wrong_type("contact", "a JSON object", "ออบเจกต์ JSON")
        unknown = sorted(str(k) for k in body if k not in FIELDS)
        errors.unknown_fields(unknown, FIELDS)
        channel = self._channel(body, errors)
        received_at = self._received_at(body, errors)
        number, country = self._caller(body, errors)
        form = ContactForm(
            channel=channel or "",
            received_at=received_at,
            caller_number=number,
            caller_country=country,
            language=self._language(body, errors),
            priority=self._priority(body, errors),
            reference=self._reference(body, errors),
            outcome=self._outcome(body, errors),
        )
        errors.raise_if_any()
        return form

    def _channel(self, body: Mapping[str, Any], errors: Errors) -> str | None:
        value = body.get("channel")
        allowed = self.tax.non_call_channels
        if value in (None, ""):
            errors.required("channel", " (how the contact came in)", " (ช่องทางที่รับเรื่อง)")
        elif value not in allowed:
            phone = self.tax.intake_channels.get(str(value))
            if phone is not None:
                errors.add("channel", "not_allowed",
                           f"{value!r} contacts are recorded from calls, not by hand",
                           f"ช่องทาง '{phone.th}' บันทึกจากสายโทรเข้าโดยอัตโนมัติ")
            else:
                errors.unknown_choice("channel", value, allowed.ids)
        return value if isinstance(value, str) and value in allowed else None

    def _received_at(self, body: Mapping[str, Any], errors: Errors) -> datetime:
        now = self.clock()
        value = body.get("received_at")
        if value in (None, ""):
            return now
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            errors.add("received_at", "bad_time",
                       "must be an RFC 3339 time with its offset, e.g. 2024-02-01T09:30:00+07:00",
                       "ต้องเป็นเวลาแบบ RFC 3339 พร้อมเขตเวลา เช่น 2024-02-01T09:30:00+07:00")
            return now
        if moment > now + CLOCK_SKEW:
            errors.add("received_at", "in_future", "is in the future", "เป็นเวลาในอนาคต")
        elif moment < now - MAX_AGE:
            errors.add("received_at", "too_old", "is more than a year ago", "เก่ากว่าหนึ่งปี")
        return moment

    def _caller(self, body: Mapping[str, Any], errors: Errors) -> tuple[str | None, str | None]:
        value = body.get("caller_number")
        if value in (None, ""):
            return None, None
        number = normalize(str(value)) if isinstance(value, str) else None
        if number is None or number.e164 is None:
            errors.add("caller_number", "bad_number",
                       "not a phone number (Thai 0812345678 or international +95...)",
                       "ไม่ใช่หมายเลขโทรศัพท์ (เช่น 0812345678 หรือ +95...)")
            return None, None
        return number.e164, number.country

    def _language(self, body: Mapping[str, Any], errors: Errors) -> str:
        value = body.get("language") or "th"
        if not isinstance(value, str) or not _BCP47.match(value):
            errors.add("language", "bad_language", "must be a BCP 47 code such as th, en, km, my",
                       "ต้องเป็นรหัสภาษา BCP 47 เช่น th, en, km, my")
            return "th"
        return value

    def _priority(self, body: Mapping[str, Any], errors: Errors) -> str:
        value = body.get("priority") or "normal"
        if value not in PRIORITIES:
            errors.unknown_choice("priority", value, PRIORITIES)
            return "normal"
        return str(value)

    def _reference(self, body: Mapping[str, Any], errors: Errors) -> str | None:
        value = body.get("reference")
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            errors.wrong_type("reference", "text", "ข้อความ")
            return None
        if len(value.strip()) > REFERENCE_MAX:
            errors.too_long("reference", REFERENCE_MAX, len(value.strip()))
        return value.strip() or None

    def _outcome(self, body: Mapping[str, Any], errors: Errors) -> dict[str, Any] | None:
        value = body.get("outcome")
        if value in (None, {}):
            return None
        try:
            return self.outcomes.validate(value)
        except Invalid as exc:
            for path, error in exc.fields.items():
                errors.fields.setdefault(f"outcome.{path}", error)
            return None
