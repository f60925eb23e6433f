"""Caller numbers as Asterisk gives them → E.164 and country (phonenumbers).

The carrier delivers Thai callers in national format ("0812345678") and foreign callers with
"+" or a Thai international prefix ("001", "007"...: phonenumbers knows them for region TH).
A withheld number ("anonymous", "") is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

HOME_REGION = "TH"
_WITHHELD = frozenset({"anonymous", "restricted", "private", "unavailable", "unknown"})


@dataclass(frozen=True, slots=True)
class CallerNumber:
    e164: str | None
    country: str | None


WITHHELD = CallerNumber(None, None)


# A call's record is snapshot on every event, with the same number each time: parse it once.
@lru_cache(maxsize=4096)
def normalize(raw: str | None, region: str = HOME_REGION) -> CallerNumber:
    """E.164 and ISO 3166-1 alpha-2 country of a caller id, or (None, None) when withheld or
    not a phone number."""
    text = "".join(ch for ch in (raw or "") if ch.isdigit() or ch == "+")
    if not text or (raw or "").strip().lower() in _WITHHELD:
        return WITHHELD
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return WITHHELD
    if not phonenumbers.is_possible_number(parsed):
        return WITHHELD
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return CallerNumber(e164, phonenumbers.region_code_for_number(parsed))
