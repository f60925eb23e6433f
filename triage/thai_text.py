"""Thai text helpers: normalisation for matching, numbers in words, Buddhist-era dates.

The Ministry's reports are dated in the Buddhist era ("ตุลาคม 2560" = October 2017), and what
agents type mixes Thai digits (๑๓๐๐), zero-width spaces pasted from LINE and stray spacing.
"""

from __future__ import annotations

import re
from datetime import date

from pythainlp.util import normalize as _thai_normalize
from pythainlp.util import num_to_thaiword, thai_digit_to_arabic_digit

# The Buddhist era (พ.ศ.) runs 543 years ahead of the Common Era, from 1 January since 1941.
BE_OFFSET = 543

THAI_MONTHS: tuple[str, ...] = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
THAI_MONTHS_SHORT: tuple[str, ...] = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)

# Zero-width characters that Thai input methods and chat apps insert between words.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Thai digits -> ASCII, invisible characters removed, spacing collapsed, Thai vowel and
    tone-mark order repaired (pythainlp), so the same words always compare equal."""
    text = thai_digit_to_arabic_digit(_INVISIBLE.sub("", text))
    text = _thai_normalize(text)
    return _SPACES.sub(" ", text).strip()


def num_to_thai_words(number: int) -> str:
    """21 -> "ยี่สิบเอ็ด" (pythainlp's reading, the one Thai speakers use)."""
    return num_to_thaiword(number)


def to_buddhist_era(year: int) -> int:
    return year + BE_OFFSET


def from_buddhist_era(be_year: int) -> int:
    return be_year - BE_OFFSET


def thai_month_name(month: int, short: bool = False) -> str:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return (THAI_MONTHS_SHORT if short else THAI_MONTHS)[month - 1]


def format_thai_month(day: date) -> str:
    """date(2017, 10, 1) -> "ตุลาคม 2560", as the monthly report heads its pages."""
    return f"{thai_month_name(day.month)} {to_buddhist_era(day.year)}"


def format_thai_date(day: date, short: bool = False) -> str:
    """date(2017, 10, 5) -> "5 ตุลาคม 2560" (short: "5 ต.ค. 2560")."""
    return f"{day.day} {thai_month_name(day.month, short)} {to_buddhist_era(day.year)}"
