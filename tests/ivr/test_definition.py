"""The IVR definition (config/ivr.toml) against the routing definition: loading, validation,
the routing table, and that a new language needs configuration only."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from agent_routing.skills import load_routing, routing
from ivr.__main__ import show
from ivr.definition import DEFAULT_PATH, load_ivr
from ivr.events import Line, Priority
from ivr.routing_table import build_table
from settings import SettingsError, repo_root

ROUTING_TOML = repo_root() / "config" / "routing.toml"


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {source}"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_shipped_definition_routes_every_line_language_and_option() -> None:
    ivr = load_ivr()
    definition = routing()
    table = build_table(ivr, definition)

    expected = len(ivr.lines) * len(definition.languages) * len(ivr.menu)
    assert len(list(table)) == expected
    assert {r.queue for r in table} <= set(definition.queue_names)


def test_domestic_thai_menu_reaches_counselling_and_emergency_queues() -> None:
    table = build_table(load_ivr(), routing())

    assert table.route(Line.DOMESTIC, "th", "emergency").queue == "critical-th"
    assert table.route(Line.DOMESTIC, "th", "emergency").priority is Priority.CRITICAL
    assert table.route(Line.DOMESTIC, "th", "counselling").queue == "counsel-th"
    # No input twice on the domestic line in Thai: the policy's default counselling queue.
    assert table.default_route(Line.DOMESTIC, "th").queue == routing().ivr.default_queue


def test_international_callers_reach_the_desk_in_their_language() -> None:
    table = build_table(load_ivr(), routing())

    for lang in routing().languages:
        route = table.route(Line.INTERNATIONAL, lang, "counselling")
        assert route.queue == f"intl-{lang}"
        assert route.fallback_queue == f"intl-{routing().ivr.fallback_language}"


def test_foreign_language_on_the_domestic_line_goes_to_the_interpreter() -> None:
    table = build_table(load_ivr(), routing())

    assert table.route(Line.DOMESTIC, "km", "report_person").queue == "intl-km"
    assert table.route(Line.DOMESTIC, "my", "emergency").queue == "intl-my"


def test_adding_a_language_is_configuration_only(tmp_path: Path) -> None:
    lao = (
        '[languages.lo]\nname_en = "Lao"\nname_native = "ລາວ"\nivr_key = "5"\nespeak_voice = ""\n\n'
    )
    definition = load_routing(
        _edited(tmp_path, ROUTING_TOML, "[languages.th]", lao + "[languages.th]")
    )

    table = build_table(load_ivr(DEFAULT_PATH, definition), definition)

    assert table.route(Line.INTERNATIONAL, "lo", "counselling").queue == "intl-lo"
    assert table.route(Line.DOMESTIC, "lo", "emergency").queue == "intl-lo"
    assert re.search(
        r"^5 1 +lo +emergency +intl-lo +critical",
        show(load_ivr(DEFAULT_PATH, definition), definition),
        re.M,
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'prompt = "menu-information"\ndigit = "3"',
            'prompt = "menu-information"\ndigit = "2"',
            "share a digit",
        ),
        ('en = "Information" }', 'en = " " }', "label needs th and en"),
        ('digit = "4"', 'digit = "9"', "emergency key"),
        ('default_option = "counselling"', 'default_option = "pizza"', "default_option"),
        (
            'emergency = ["critical", "intl"]',
            'emergency = ["critical", "ambulance"]',
            "unknown queue families",
        ),
        ('language_mode = "choose"', 'language_mode = "guess"', "language_mode"),
        ('callback_key = "2"', 'callback_key = "1"', "fallback_desk_key and callback_key"),
        ("menu_timeout = 6", "", "missing key"),
    ],
)
def test_a_broken_definition_stops_start_up_naming_the_problem(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load_ivr(_edited(tmp_path, DEFAULT_PATH, old, new))

    assert str(tmp_path) in str(caught.value)


def test_shipped_file_is_valid_toml_with_one_route_per_option() -> None:
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    options = {o["id"] for o in raw["menu"]["options"]}

    for line in raw["lines"].values():
        assert set(line["routes"]) == options


def test_show_prints_every_keyed_path() -> None:
    text = show()

    assert re.search(r"^9 \(any time\) +th +emergency +critical-th +critical", text, re.M)
    assert re.search(r"^3 2 +km +counselling +intl-km +normal +intl-en or callback", text, re.M)
    assert re.search(r"^2 2 +en +counselling +intl-en +normal +callback", text, re.M)
    assert "dialled +66991301300" in text
