"""recordings.numbers: number -> prompt fragments, per language."""

from __future__ import annotations

import pytest
from pythainlp.util import num_to_thaiword

from recordings.catalog import PromptCatalog
from recordings.numbers import (
    LANGUAGES,
    digit_fragments,
    number_fragments,
    position_prompts,
    thai_fragments,
    wait_prompts,
)


@pytest.fixture(scope="module")
def catalog() -> PromptCatalog:
    return PromptCatalog.load()


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, ["num-0"]),
        (7, ["num-7"]),
        (11, ["num-11"]),  # สิบเอ็ด is one fragment
        (20, ["num-20"]),  # ยี่สิบ
        (21, ["num-20", "num-et"]),  # ยี่สิบ + เอ็ด, not + หนึ่ง
        (35, ["num-30", "num-5"]),
        (91, ["num-90", "num-et"]),
        (100, ["num-100"]),
    ],
)
def test_thai(n: int, expected: list[str]) -> None:
    assert number_fragments("th", n) == expected


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 0, ["num-0"]),
        ("en", 19, ["num-19"]),
        ("en", 21, ["num-20", "num-1"]),
        ("en", 45, ["num-40", "num-5"]),
        ("en", 60, ["num-60"]),
        ("km", 21, ["num-20", "num-1"]),
        ("my", 99, ["num-90", "num-9"]),
    ],
)
def test_tens_and_units_languages(lang: str, n: int, expected: list[str]) -> None:
    assert number_fragments(lang, n) == expected


def test_over_one_hundred_is_more_than_one_hundred() -> None:
    assert number_fragments("en", 250) == ["more-than", "num-100"]
    assert number_fragments("th", 101) == ["more-than", "num-100"]
    assert number_fragments("my", 101) == ["num-100", "more-than"]  # ၁၀၀ ကျော်


def test_thai_fragments_spell_pythainlp_reading(catalog: PromptCatalog) -> None:
    for n in range(101):
        spoken = "".join(catalog.text(f, "th") for f in thai_fragments(n))
        assert spoken == num_to_thaiword(n), n


def test_every_fragment_exists_in_the_catalog(catalog: PromptCatalog) -> None:
    for lang in LANGUAGES:
        for n in range(0, 151):
            for fragment in number_fragments(lang, n):
                assert lang in catalog.prompt(fragment).languages, (lang, n, fragment)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        number_fragments("en", -1)
    with pytest.raises(ValueError, match="'fr'"):
        number_fragments("fr", 3)


def test_digits_read_back_a_keyed_number(catalog: PromptCatalog) -> None:
    fragments = digit_fragments("*66#")
    assert fragments == ["key-star", "digit-6", "digit-6"]
    assert digit_fragments("0081") == ["digit-0", "digit-0", "digit-8", "digit-1"]
    for name in fragments:
        catalog.prompt(name)


def test_position_and_wait_announcements() -> None:
    assert position_prompts("th", 3) == ["queue-position", "num-3"]
    assert wait_prompts("en", 25) == ["queue-wait", "num-20", "num-5", "minutes"]
    assert wait_prompts("en", 0) == ["queue-wait", "num-1", "minutes"]  # never "zero minutes"
