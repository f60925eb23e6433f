"""Shift time arithmetic: local windows, the night shift across midnight, boundaries, overlaps,
and the seed roster's staffing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from settings import SettingsError
from shift_schedule.model import (
    RosterError,
    ShiftDef,
    active_instances,
    check_window,
    next_boundary,
    parse_minute,
)
from shift_schedule.seed import load_seed

from .conftest import TUESDAY, TZ, at

MORNING = ShiftDef("morning", "เช้า", "Morning", 6 * 60, 14 * 60)
AFTERNOON = ShiftDef("afternoon", "บ่าย", "Afternoon", 14 * 60, 22 * 60)
NIGHT = ShiftDef("night", "ดึก", "Night", 22 * 60, 6 * 60)
SHIFTS = (MORNING, AFTERNOON, NIGHT)


def test_night_shift_ends_next_morning() -> None:
    night = NIGHT.instance(TUESDAY, TZ)
    assert night.start == at(22)
    assert night.end == at(6, day=TUESDAY + timedelta(days=1))
    assert (night.end - night.start) == timedelta(hours=8)


def test_at_two_in_the_morning_yesterdays_night_shift_is_on() -> None:
    running = active_instances(SHIFTS, at(2), TZ)
    assert [(i.shift.id, i.day) for i in running] == [("night", TUESDAY - timedelta(days=1))]


@pytest.mark.parametrize(("moment", "shift"), [
    (at(5, 59, 59), "night"), (at(6), "morning"), (at(13, 59, 59), "morning"),
    (at(14), "afternoon"), (at(21, 59, 59), "afternoon"), (at(22), "night"),
])
def test_boundaries_belong_to_the_shift_that_starts(moment, shift) -> None:  # type: ignore[no-untyped-def]
    assert [i.shift.id for i in active_instances(SHIFTS, moment, TZ)] == [shift]


def test_next_boundary_is_computed_from_definitions() -> None:
    assert next_boundary(SHIFTS, at(13, 59, 59), TZ) == at(14)
    assert next_boundary(SHIFTS, at(14), TZ) == at(22)
    assert next_boundary(SHIFTS, at(23), TZ) == at(6, day=TUESDAY + timedelta(days=1))


def test_a_full_day_shift_ends_at_midnight() -> None:
    day = ShiftDef("day", "วัน", "Day", 0, 24 * 60).instance(TUESDAY, TZ)
    assert day.end == at(0, day=TUESDAY + timedelta(days=1))


@pytest.mark.parametrize(("start", "end", "problem"), [
    (-60, 600, "start between"), (1440, 600, "start between"), (600, 0, "end between"),
    (600, 1500, "end between"), (600, 600, "same time"),
])
def test_shift_outside_the_day_is_refused(start: int, end: int, problem: str) -> None:
    with pytest.raises(RosterError, match=problem):
        check_window(start, end)


@pytest.mark.parametrize("text", ["25:00", "7", "07:60", "ab:cd", "24:01"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(RosterError):
        parse_minute(text)


def test_adjacent_shifts_do_not_overlap_but_overlapping_ones_do() -> None:
    night = NIGHT.instance(TUESDAY - timedelta(days=1), TZ)
    assert not night.overlaps(MORNING.instance(TUESDAY, TZ))
    long_day = ShiftDef("long", "ยาว", "Long", 4 * 60, 12 * 60).instance(TUESDAY, TZ)
    assert night.overlaps(long_day)


def test_seed_staffs_each_shift_as_the_domain_says() -> None:
    seed = load_seed()
    per_shift: dict[str | None, dict[tuple[str, str], int]] = {}
    for entry in seed.agents():
        key = (sorted(entry.agent.skills)[0], _primary(entry.agent.languages))
        bucket = per_shift.setdefault(entry.shift_id, {})
        bucket[key] = bucket.get(key, 0) + 1
    assert per_shift["morning"] == {("counselling", "th"): 15, ("international_desk", "en"): 4}
    assert per_shift["afternoon"] == {("counselling", "th"): 13, ("international_desk", "en"): 4,
                                      ("international_desk", "km"): 1}
    assert per_shift["night"] == {("counselling", "th"): 5, ("international_desk", "en"): 1}
    assert len(seed.agents()) == 60  # 43 rostered + 17 relief: the centre's 60 counsellors


def test_seed_agents_are_numbered_with_their_phones() -> None:
    agents = [e.agent for e in load_seed().agents()]
    assert (agents[0].id, agents[0].endpoint) == ("A001", "agent-001")
    khmer = next(a for a in agents if "km" in a.languages)
    assert (khmer.id, khmer.endpoint, khmer.languages) == ("A037", "agent-037",
                                                          frozenset({"km", "th"}))


def test_seed_naming_a_language_without_queue_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "seed.toml"
    text = (Path(__file__).resolve().parents[2] / "config" / "roster_seed.toml").read_text()
    bad.write_text(text.replace('language = "km"', 'language = "lo"'))
    with pytest.raises(SettingsError, match=r"languages not in config/routing\.toml"):
        load_seed(bad)


def _primary(languages: frozenset[str]) -> str:
    others = sorted(languages - {"th"})
    return others[0] if others else "th"

