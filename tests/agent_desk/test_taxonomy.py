"""The Ministry's taxonomy as data: complete, consistent with its other users, served as is."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pythainlp.corpus import provinces

from outcomes.taxonomy import DEFAULT_PATH, load_taxonomy, taxonomy
from settings import SettingsError
from tests.agent_desk.conftest import Desk
from tests.conftest import sign_in


def test_the_77_provinces_match_an_independent_list() -> None:
    shipped = {(p.th, p.en) for p in taxonomy().provinces}
    listed = provinces(details=True)
    assert isinstance(listed, list)  # details=True: a dict per province, not a set of names
    reference = {(p["name_th"], p["name_en"]) for p in listed}
    assert len(shipped) == 77
    assert shipped == reference
    assert taxonomy().provinces.get("TH-10").en == "Bangkok"  # type: ignore[union-attr]


def test_categories_and_counselling_subtypes_are_the_reports() -> None:
    tax = taxonomy()
    assert tax.categories.ids == (
        "help_request", "counselling", "information_msdhs", "information_outside", "referral",
        "field_visit", "test_call", "silent_prank", "callback_not_answered",
    )
    counselling = tax.categories.get("counselling")
    assert counselling is not None and counselling.subtypes is not None
    assert counselling.subtypes.ids == (
        "family_relationships", "behaviour_problems", "unplanned_pregnancy", "stress"
    )
    assert [c.id for c in tax.categories if c.is_test] == ["test_call"]
    assert tax.referral_urgency.ids == ("critical", "urgent", "non_critical")
    assert {d.extra["abbr"] for d in tax.departments} >= {"ดย.", "ผส.", "พก.", "สค."}


def test_triage_suggests_only_problem_types_the_form_knows() -> None:
    from triage.keywords import default_matcher

    suggested = {t for rule in default_matcher().rules for t in rule.problem_types}
    assert suggested and suggested <= set(taxonomy().problem_types.ids)


def test_a_duplicate_id_in_the_file_stops_start_up(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace('id = "youth"', 'id = "child"')
    broken = tmp_path / "taxonomy.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=r"target_groups.*repeats ids \['child'\]"):
        load_taxonomy(broken)


def test_a_category_requiring_an_unknown_field_stops_start_up(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'requires = ["problem_types", "province"]', 'requires = ["problem_types", "provence"]'
    )
    broken = tmp_path / "taxonomy.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=r"field_visit.*provence"):
        load_taxonomy(broken)


async def test_the_api_serves_the_file(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    body = await (await signed.get("/api/taxonomy")).json()
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert body["version"] == raw["version"]
    assert [c["id"] for c in body["categories"]] == [c["id"] for c in raw["categories"]]
    assert [(p["id"], p["th"]) for p in body["provinces"]] == [
        (p["id"], p["th"]) for p in raw["geography"]["provinces"]
    ]
    assert body["caller_flags"][0].keys() >= {"id", "th", "en", "default_days", "max_days"}
