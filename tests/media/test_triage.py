"""triage: Thai text helpers and keyword suggestions matched on whole words."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from triage.keywords import (
    DEFAULT_PATH,
    KeywordFileError,
    KeywordMatcher,
    default_matcher,
    problem_type_ids,
    suggest,
)
from triage.thai_text import (
    format_thai_date,
    format_thai_month,
    from_buddhist_era,
    normalize_text,
    num_to_thai_words,
    thai_month_name,
    to_buddhist_era,
)

# --- Thai text ----------------------------------------------------------------------------


def test_thai_digits_become_ascii() -> None:
    assert normalize_text("โทร ๑๓๐๐ หรือ +๖๖ ๙๙ ๑๓๐ ๑๓๐๐") == "โทร 1300 หรือ +66 99 130 1300"


def test_spacing_and_invisible_characters() -> None:
    assert normalize_text("  ขอ\u200bทาน \t\n ที่ สะพาน  ") == "ขอทาน ที่ สะพาน"


def test_thai_vowel_typing_errors_are_repaired() -> None:
    # Two sara e typed for sara ae, a doubled tone mark: pythainlp's normalize.
    assert normalize_text("เเม่") == "แม่"
    assert normalize_text("ค่่ะ") == "ค่ะ"


def test_numbers_in_words() -> None:
    assert num_to_thai_words(21) == "ยี่สิบเอ็ด"
    assert num_to_thai_words(1300) == "หนึ่งพันสามร้อย"


def test_buddhist_era() -> None:
    assert to_buddhist_era(2017) == 2560
    assert from_buddhist_era(2567) == 2024
    assert format_thai_month(date(2017, 10, 1)) == "ตุลาคม 2560"
    assert format_thai_date(date(2024, 2, 1)) == "1 กุมภาพันธ์ 2567"
    assert format_thai_date(date(2024, 8, 28), short=True) == "28 ส.ค. 2567"
    assert thai_month_name(12) == "ธันวาคม"
    with pytest.raises(ValueError, match=r"1\.\.12"):
        thai_month_name(13)


# --- keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "priority", "problem_type", "keyword"),
    [
        ("ฉันไม่ไหวแล้ว อยากฆ่าตัวตาย", "critical", "suicide_risk", "ฆ่าตัวตาย"),
        ("สามีตบตีฉันทุกคืน", "urgent", "domestic_violence", "ตบตี"),
        ("เพื่อนถูกข่มขืนเมื่อคืน", "critical", "violence_outside_family", "ถูกข่มขืน"),
        ("มีขบวนการค้ามนุษย์ที่ชายแดน", "critical", "human_trafficking", "ขบวนการค้ามนุษย์"),
        ("เด็กถูกทารุณกรรมจากพ่อเลี้ยง", "urgent", "child_abuse", "เด็กถูกทารุณกรรม"),
        ("ลูกชายติดค้างต่างประเทศ กลับไทยไม่ได้", "urgent", "stranded_abroad", "กลับไทยไม่ได้"),
        ("หนูท้องไม่พร้อมค่ะ", "normal", "unplanned_pregnancy", "ท้องไม่พร้อม"),
        ("มีคนไร้บ้านนอนข้างถนนหน้าตลาด", "normal", "homelessness", "คนไร้บ้าน"),
        ("มีคนขอทานอยู่หน้าวัด", "normal", "begging", "คนขอทาน"),
        ("ยายผู้สูงอายุถูกทอดทิ้งอยู่คนเดียว", "urgent", "elder_neglect", "ผู้สูงอายุถูกทอดทิ้ง"),
        ("I think my friend was RAPED last night", "critical", "domestic_violence", "raped"),
        ("She was trafficked to work on a boat", "critical", "human_trafficking", "trafficked"),
        ("He said he wants to kill myself... I mean himself", "critical", "suicide_risk",
         "kill myself"),
    ],
)
def test_keywords_suggest_priority_and_type(
    text: str, priority: str, problem_type: str, keyword: str
) -> None:
    result = suggest(text)
    assert result.priority == priority
    assert problem_type in result.problem_types
    assert keyword in result.matched_keywords


def test_no_keyword_no_suggestion() -> None:
    result = suggest("สอบถามเรื่องเบี้ยยังชีพผู้สูงอายุค่ะ")
    assert (result.priority, result.problem_types, result.matched) == ("normal", (), ())
    assert result.empty


@pytest.mark.parametrize(
    "text",
    [
        "ขอทานข้าวด้วยกันไหม",  # "may I eat with you": ขอทาน inside ขอ|ทานข้าว
        "ปลูกดอกทานตะวันไว้ขอทานตะวันไปปลูกบ้าง",  # ขอทาน inside ขอ|ทานตะวัน
        "I'd like some grape juice",  # rape inside grape
        "my therapist helps me",  # rapist inside therapist
    ],
)
def test_keyword_inside_a_longer_word_does_not_match(text: str) -> None:
    assert suggest(text).empty, suggest(text)


def test_the_same_keyword_as_its_own_word_does_match() -> None:
    assert suggest("ขอทานอยู่ที่สี่แยก").problem_types == ("begging",)
    assert suggest("grape? no: rape").priority == "critical"


def test_multi_word_keyword_needs_the_words_in_order() -> None:
    assert "kill myself" in suggest("I want to kill myself").matched_keywords
    assert suggest("myself I would never kill").empty
    assert "self harm" in suggest("history of self-harm").matched_keywords  # '-' is not a word


def test_highest_priority_wins_and_types_accumulate() -> None:
    result = suggest("คนไร้บ้านคนนี้บอกว่าอยากตาย")
    assert result.priority == "critical"
    assert set(result.problem_types) == {"homelessness", "suicide_risk"}


def test_thai_digits_and_spacing_do_not_hide_keywords() -> None:
    assert suggest("ผู้สูงอายุ\u200bถูกทอดทิ้ง  ๒ คน").problem_types == ("elder_neglect",)


def test_keyword_file_uses_taxonomy_ids() -> None:
    matcher = default_matcher()
    used = {t for rule in matcher.rules for t in rule.problem_types}
    assert used <= problem_type_ids()
    taxonomy = DEFAULT_PATH.parent / "taxonomy.toml"
    if taxonomy.is_file():
        data = tomllib.loads(taxonomy.read_text(encoding="utf-8"))
        ids = {p["id"] for p in data.get("problem_types", [])}
        assert used - {"other"} <= ids


def test_keyword_file_with_unknown_problem_type_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "kw.toml"
    bad.write_text('version = 1\n[[rules]]\nproblem_types = ["ghosts"]\npriority = "urgent"\n'
                   'en = ["boo"]\n', encoding="utf-8")
    with pytest.raises(KeywordFileError, match=r"rule 1: unknown .*ghosts"):
        KeywordMatcher.load(bad)


def test_keyword_file_with_bad_priority_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "kw.toml"
    bad.write_text('version = 1\n[[rules]]\nproblem_types = ["begging"]\npriority = "high"\n',
                   encoding="utf-8")
    with pytest.raises(KeywordFileError, match="priority must be one of"):
        KeywordMatcher.load(bad)
