"""Names of countries in Thai and English, from the phone-number metadata the server already has."""

from __future__ import annotations

from functools import cache

import phonenumbers
from phonenumbers import geocoder

from reports.document import Label

UNKNOWN_COUNTRY = Label("ไม่ทราบประเทศ", "Unknown country")


@cache
def country_label(code: str) -> Label:
    """"MM" -> เมียนมา / Myanmar; the code itself when the metadata has no name for it."""
    if not code:
        return UNKNOWN_COUNTRY
    example = phonenumbers.example_number(code.upper())
    if example is None:
        return Label(code, code)
    th = geocoder.country_name_for_number(example, "th") or code
    en = geocoder.country_name_for_number(example, "en") or code
    return Label(th, en)
