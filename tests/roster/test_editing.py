"""Roster edits: what a supervisor may change, what is refused (and then nothing changed), the
audit trail, and that the applier is told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from agent_routing.skills import routing
from shift_schedule.catalog import SaveAgent, SaveShift
from shift_schedule.clock import FixedClock
from shift_schedule.editing import (
    AddAssignment,
    EditContext,
    MarkAbsent,
    MoveAssignment,
    RemoveAssignment,
    SwapAssignments,
)
from shift_schedule.model import Agent, RosterError, ShiftDef
from shift_schedule.store import RosterStore
from shift_schedule.tables import AbsenceRow, AssignmentRow
from storage import Database, audit

from .conftest import TUESDAY, TZ

WEDNESDAY = TUESDAY + timedelta(days=1)
RELIEF = "A044"  # first relief counsellor: no default shift


class Told:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def told() -> Told:
    return Told()


@pytest.fixture
def ctx(roster_db: Database, clock: FixedClock, told: Told) -> EditContext:
    return EditContext(roster_db, clock, TZ, told)


async def _rows(db: Database) -> tuple[int, int]:
    async with db.session() as s:
        a = (await s.execute(select(func.count()).select_from(AssignmentRow))).scalar_one()
        b = (await s.execute(select(func.count()).select_from(AbsenceRow))).scalar_one()
    return a, b


async def _assignment_of(db: Database, agent_id: str, shift_id: str, day: date) -> int:
    async with db.session() as s:
        snap = await RosterStore(s).snapshot(day, day, TZ)
    return next(a.id for a in snap.assignments
                if (a.agent_id, a.shift_id, a.day) == (agent_id, shift_id, day))


async def test_cover_for_tomorrows_afternoon_is_audited_and_announced(
    ctx: EditContext, roster_db: Database, told: Told,
) -> None:
    added = await AddAssignment(ctx).execute("sup", RELIEF, "afternoon", WEDNESDAY, "A020")
    assert (added.agent_id, added.covers_agent_id, added.source) == (RELIEF, "A020", "supervisor")
    async with roster_db.session() as s:
        entries = await audit.entries(s, subject_type="assignment", subject_id=str(added.id))
    assert [(e.actor, e.action, e.before) for e in entries] == [("sup", "roster.assign", None)]
    assert entries[0].after["agent_id"] == RELIEF
    assert told.count == 1


@pytest.mark.parametrize(("agent", "shift", "status", "message"), [
    ("A999", "afternoon", 404, "unknown agent"),
    ("A001", "evening", 404, "unknown shift"),
    # A001 works the morning; the afternoon does not overlap, but the morning again does.
    ("A001", "morning", 409, "overlapping"),
])
async def test_invalid_assignment_changes_nothing(
    ctx: EditContext, roster_db: Database, told: Told, agent: str, shift: str, status: int,
    message: str,
) -> None:
    before = await _rows(roster_db)
    with pytest.raises(RosterError, match=message) as caught:
        await AddAssignment(ctx).execute("sup", agent, shift, WEDNESDAY)
    assert caught.value.status == status
    assert await _rows(roster_db) == before and told.count == 0


async def test_night_shift_overlaps_a_long_next_morning(ctx: EditContext) -> None:
    early = ShiftDef("early", "เช้ามืด", "Early", 4 * 60, 12 * 60)
    await SaveShift(ctx).execute("sup", early, create=True)
    with pytest.raises(RosterError, match="overlapping") as caught:
        # A038 works Tuesday's night shift, which runs until Wednesday 06:00.
        await AddAssignment(ctx).execute("sup", "A038", "early", WEDNESDAY)
    conflict = caught.value.details["conflicts_with"]
    assert isinstance(conflict, dict) and conflict["shift_id"] == "night"


async def test_move_to_another_shift_and_back(ctx: EditContext, roster_db: Database) -> None:
    assignment = await _assignment_of(roster_db, "A001", "morning", WEDNESDAY)
    moved = await MoveAssignment(ctx).execute("sup", assignment, "afternoon", WEDNESDAY)
    assert (moved.shift_id, moved.day) == ("afternoon", WEDNESDAY)
    thursday = await _assignment_of(roster_db, "A002", "morning", TUESDAY + timedelta(days=2))
    with pytest.raises(RosterError, match="overlapping"):
        # A002 already works Wednesday morning.
        await MoveAssignment(ctx).execute("sup", thursday, "morning", WEDNESDAY)


async def test_swap_exchanges_agents_and_refuses_what_would_overlap(
    ctx: EditContext, roster_db: Database,
) -> None:
    morning = await _assignment_of(roster_db, "A001", "morning", WEDNESDAY)
    afternoon = await _assignment_of(roster_db, "A020", "afternoon", WEDNESDAY)
    first, second = await SwapAssignments(ctx).execute("sup", morning, afternoon)
    assert (first.agent_id, second.agent_id) == ("A020", "A001")
    night = await _assignment_of(roster_db, "A038", "night", WEDNESDAY)
    same_day = await _assignment_of(roster_db, "A002", "morning", WEDNESDAY)
    await SwapAssignments(ctx).execute("sup", night, same_day)  # A038 mornings, A002 nights
    before = await _rows(roster_db)
    other_morning = await _assignment_of(roster_db, "A003", "morning", WEDNESDAY)
    with pytest.raises(RosterError, match="same shift"):
        await SwapAssignments(ctx).execute("sup", other_morning, morning)
    assert await _rows(roster_db) == before


async def test_absence_with_cover_and_its_refusals(ctx: EditContext, roster_db: Database) -> None:
    absence, cover = await MarkAbsent(ctx).execute("sup", "A037", WEDNESDAY, "afternoon", "sick",
                                                   cover_agent_id=RELIEF)
    assert (absence.agent_id, absence.reason) == ("A037", "sick")
    assert cover is not None and (cover.agent_id, cover.covers_agent_id) == (RELIEF, "A037")
    before = await _rows(roster_db)
    with pytest.raises(RosterError, match="already marked absent"):
        await MarkAbsent(ctx).execute("sup", "A037", WEDNESDAY, None, "sick")
    with pytest.raises(RosterError, match="not rostered"):
        await MarkAbsent(ctx).execute("sup", RELIEF, WEDNESDAY, "morning", "sick")
    with pytest.raises(RosterError, match="overlapping"):
        # The cover would need to be in two places: RELIEF already covers Wednesday afternoon.
        await MarkAbsent(ctx).execute("sup", "A021", WEDNESDAY, "afternoon", "sick",
                                      cover_agent_id=RELIEF)
    assert await _rows(roster_db) == before  # the failed absence was rolled back too


async def test_past_shifts_are_a_record(ctx: EditContext, roster_db: Database) -> None:
    yesterday = await _assignment_of(roster_db, "A001", "morning", TUESDAY - timedelta(days=1))
    with pytest.raises(RosterError, match="shift is over") as caught:
        await RemoveAssignment(ctx).execute("sup", yesterday)
    assert caught.value.status == 409


async def test_changing_shift_hours_that_would_overlap_is_refused(
    ctx: EditContext, roster_db: Database,
) -> None:
    await AddAssignment(ctx).execute("sup", "A001", "night", WEDNESDAY)  # morning + night
    longer = ShiftDef("morning", "เวรเช้า", "Morning", 6 * 60, 23 * 60)
    with pytest.raises(RosterError, match="overlap") as caught:
        await SaveShift(ctx).execute("sup", longer, create=False)
    assert caught.value.details["agent_id"] == "A001"
    async with roster_db.session() as s:
        morning = next(x for x in await RosterStore(s).shifts() if x.id == "morning")
    assert morning.end_minute == 14 * 60


async def test_agents_must_have_known_languages_skills_and_a_free_phone(ctx: EditContext) -> None:
    save = SaveAgent(ctx, routing(), endpoints=80)
    lao = Agent("A061", "Lao interpreter", "agent-061", frozenset({"lo"}),
                frozenset({"counselling"}))
    with pytest.raises(RosterError, match="known languages"):
        await save.execute("sup", lao, create=True)
    taken = Agent("A061", "New", "agent-001", frozenset({"th"}), frozenset({"counselling"}))
    with pytest.raises(RosterError, match="another agent") as caught:
        await save.execute("sup", taken, create=True)
    assert caught.value.details["agent_id"] == "A001"
    unprovisioned = Agent("A061", "New", "agent-081", frozenset({"th"}), frozenset({"counselling"}))
    with pytest.raises(RosterError, match="provisioned"):
        await save.execute("sup", unprovisioned, create=True)
    ok = Agent("A061", "Burmese interpreter", "agent-061", frozenset({"my", "th"}),
               frozenset({"international_desk"}))
    assert await save.execute("sup", ok, create=True) == ok
