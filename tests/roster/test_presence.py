"""Who is a queue member: on shift and logged in; state lapses at the next shift."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent_routing.agent_states import LogAgentIn, LogAgentOut, PauseAgent
from agent_routing.situations import SituationReader
from shift_schedule.clock import FixedClock
from shift_schedule.editing import EditContext, MarkAbsent
from shift_schedule.model import RosterError
from storage import Database
from web.accounts import Role, User

from .conftest import TUESDAY, TZ, at

AGENT1 = User(2, "agent1", "Agent One", Role.AGENT, "A001")


async def _never() -> bool:
    return False


async def _status(reader: SituationReader, agent_id: str) -> tuple[str, bool]:
    s = (await reader.read()).of(agent_id)
    assert s is not None
    return s.status, s.is_member


async def test_on_shift_agents_are_members_by_default(reader: SituationReader) -> None:
    assert await _status(reader, "A001") == ("available", True)
    assert await _status(reader, "A020") == ("off_shift", False)  # afternoon


async def test_without_auto_login_agents_log_in_themselves(
    roster_db: Database, clock: FixedClock,
) -> None:
    reader = SituationReader(roster_db, clock, TZ, auto_login=False)
    assert await _status(reader, "A001") == ("logged_out", False)
    await LogAgentIn(roster_db, reader, _never).execute(AGENT1, "A001")
    assert await _status(reader, "A001") == ("available", True)


async def test_logout_holds_for_the_shift_then_lapses(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    await LogAgentOut(roster_db, reader, _never).execute(AGENT1, "A001")
    assert await _status(reader, "A001") == ("logged_out", False)
    clock.set(at(10, day=TUESDAY + timedelta(days=1)))  # the next morning shift
    assert await _status(reader, "A001") == ("available", True)


async def test_pause_shows_reason_and_lapses_at_the_next_shift(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    await PauseAgent(roster_db, reader, _never).execute(AGENT1, "A001", "break")
    s = (await reader.read()).of("A001")
    assert s is not None and (s.status, s.pause_reason, s.is_member) == ("paused", "break", True)
    assert s.since == clock.now()
    clock.set(at(10, day=TUESDAY + timedelta(days=1)))
    assert await _status(reader, "A001") == ("available", True)


async def test_agents_change_only_their_own_state(
    roster_db: Database, reader: SituationReader,
) -> None:
    with pytest.raises(RosterError, match="only their own") as caught:
        await PauseAgent(roster_db, reader, _never).execute(AGENT1, "A002", "break")
    assert caught.value.status == 403


async def test_pause_needs_a_logged_in_agent_and_a_known_reason(
    roster_db: Database, reader: SituationReader,
) -> None:
    with pytest.raises(RosterError, match="unknown pause reason"):
        await PauseAgent(roster_db, reader, _never).execute(AGENT1, "A001", "lunch-ish")
    await LogAgentOut(roster_db, reader, _never).execute(AGENT1, "A001")
    with pytest.raises(RosterError, match="log in"):
        await PauseAgent(roster_db, reader, _never).execute(AGENT1, "A001", "break")


async def test_absent_agents_are_not_members(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    ctx = EditContext(roster_db, clock, TZ, lambda: None)
    await MarkAbsent(ctx).execute("sup", "A005", TUESDAY, "morning", "sick")
    assert await _status(reader, "A005") == ("absent", False)
