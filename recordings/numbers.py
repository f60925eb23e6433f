"""Spoken numbers: which prompt fragments to play, in order, to say a number in a language.

The IVR announces queue positions, waiting minutes and callback hours by chaining short recorded
fragments (config/prompts.toml: "num-0".."num-20", "num-30".."num-90", "num-100", Thai "num-et",
"more-than"). Callers only ever hear small numbers; past 100 the IVR says "more than one
hundred", which is what a person on the phone would say anyway.
"""

from __future__ import annotations

from functools import cache

from triage.thai_text import num_to_thai_words

LANGUAGES = ("th", "en", "km", "my")
MAX_SPOKEN = 100
NUMBER_VALUES: tuple[int, ...] = (*range(21), *range(30, 100, 10), 100)
NUMBER_IDS: tuple[str, ...] = tuple(f"num-{n}" for n in NUMBER_VALUES)
# Thai says a trailing 1 as "เอ็ด" (21 = ยี่สิบเอ็ด), a word no other fragment holds.
THAI_ET_ID = "num-et"
MORE_THAN_ID = "more-than"
DIGIT_IDS: tuple[str, ...] = tuple(f"digit-{d}" for d in range(10))
STAR_ID = "key-star"
# Burmese puts "more than" after the number (၁၀၀ ကျော်); the others put it before.
_MORE_THAN_AFTER = frozenset({"my"})


def number_id(n: int) -> str:
    return f"num-{n}"


def number_fragments(lang: str, n: int) -> list[str]:
    """Fragment ids that say `n` in `lang`; above 100, "more than one hundred"."""
    if lang not in LANGUAGES:
        raise ValueError(f"no number fragments for language {lang!r}")
    if n < 0:
        raise ValueError(f"cannot speak a negative number ({n})")
    if n > MAX_SPOKEN:
        capped = number_fragments(lang, MAX_SPOKEN)
        if lang in _MORE_THAN_AFTER:
            return [*capped, MORE_THAN_ID]
        return [MORE_THAN_ID, *capped]
    if lang == "th":
        return thai_fragments(n)
    return _tens_units(n)


def _tens_units(n: int) -> list[str]:
    # English, Khmer and Burmese all say 21..99 as "<tens> <units>".
    if n <= 20 or n % 10 == 0:
        return [number_id(n)]
    return [number_id(n - n % 10), number_id(n % 10)]


@cache
def _thai_words() -> dict[str, str]:
    """Thai text of every fragment -> its id, built from the same reading pythainlp gives."""
    words = {num_to_thai_words(n): number_id(n) for n in NUMBER_VALUES}
    words["เอ็ด"] = THAI_ET_ID
    return words


def thai_fragments(n: int) -> list[str]:
    """Split pythainlp's reading of `n` into the longest fragments, left to right."""
    text, out = num_to_thai_words(n), []
    words = _thai_words()
    longest_first = sorted(words, key=len, reverse=True)
    while text:
        word = next((w for w in longest_first if text.startswith(w)), None)
        if word is None:
            raise ValueError(f"no Thai fragment for the rest of {n}: {text!r}")
        out.append(words[word])
        text = text[len(word) :]
    return out


def digit_fragments(digits: str) -> list[str]:
    """Read a keyed phone number back digit by digit ("*" as "star"); other keys are skipped."""
    out: list[str] = []
    for ch in digits:
        if ch.isdigit():
            out.append(f"digit-{ch}")
        elif ch == "*":
            out.append(STAR_ID)
    return out


def position_prompts(lang: str, position: int) -> list[str]:
    """"You are caller number" + the number."""
    return ["queue-position", *number_fragments(lang, position)]


def wait_prompts(lang: str, minutes: int) -> list[str]:
    """"The estimated waiting time is" + the number + "minutes"."""
    return ["queue-wait", *number_fragments(lang, max(1, minutes)), "minutes"]
