""""Who would get a call in language X with priority Y right now, and why"."""

from __future__ import annotations

from agent_routing.agent_states import PauseAgent
from agent_routing.apply import ApplyRoster
from agent_routing.explain import ExplainRouting
from agent_routing.live import LiveBoard
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from ami import Event
from ivr.definition import ivr_definition
from ivr.routing_table import build_table
from shift_schedule.clock import FixedClock
from storage import Database
from web.accounts import Role, User

from .conftest import KHMER, MemoryQueues, at

SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)


def _explain(reader: SituationReader, queues: MemoryQueues, live: LiveBoard) -> ExplainRouting:
    ivr = ivr_definition()
    return ExplainRouting(reader, queues, live, routing(), ivr, build_table(ivr, routing()))


async def _applied(reader: SituationReader) -> MemoryQueues:
    queues = MemoryQueues()
    await ApplyRoster(reader, queues, routing()).execute()
    return queues


async def test_khmer_in_the_afternoon_rings_the_interpreter(
    reader: SituationReader, clock: FixedClock,
) -> None:
    clock.set(at(15))
    queues = await _applied(reader)
    found = await _explain(reader, queues, LiveBoard(clock, 30)).execute("km", "normal")
    assert (found.primary.queue.name, found.line) == ("intl-km", "international")
    assert found.fallback is None
    assert [c.situation.agent.id for c in found.primary.would_ring] == [KHMER]
    assert found.summary["en"] == "Queue intl-km would ring A037"


async def test_khmer_at_night_falls_back_to_the_english_desk(
    reader: SituationReader, clock: FixedClock,
) -> None:
    clock.set(at(23))
    queues = await _applied(reader)
    found = await _explain(reader, queues, LiveBoard(clock, 30)).execute("km", "normal")
    khmer = next(c for c in found.primary.candidates if c.situation.agent.id == KHMER)
    assert (khmer.ready, khmer.reason["en"]) == (False, "not on shift now")
    assert found.fallback is not None and found.fallback.queue.name == "intl-en"
    assert [c.situation.agent.id for c in found.fallback.would_ring] == ["A043"]
    assert "Nobody who speaks Khmer is on shift" in found.summary["en"]


async def test_paused_and_busy_agents_are_explained(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    clock.set(at(15))
    queues = await _applied(reader)
    live = LiveBoard(clock, 30)

    async def reconcile() -> bool:
        return (await ApplyRoster(reader, queues, routing()).execute()).ok

    await PauseAgent(roster_db, reader, reconcile).execute(SUPERVISOR, KHMER, "meeting")
    found = await _explain(reader, queues, live).execute("km", "normal")
    assert found.primary.candidates[0].reason["en"] == "paused (Meeting)"
    assert found.primary.would_ring == [] and found.fallback is None  # she is still a member
    assert "every member is busy" in found.summary["en"]
    live.on_event(Event.build("AgentConnect", {"MemberName": "A020", "Queue": "critical-th"}))
    critical = await _explain(reader, queues, live).execute("th", "critical")
    assert critical.primary.queue.name == "critical-th" and critical.queue_priority == 10
    a020 = next(c for c in critical.primary.candidates if c.situation.agent.id == "A020")
    assert (a020.ready, a020.reason["en"]) == (False, "busy (on call)")
    assert all(c.penalty == 0 for c in critical.primary.would_ring)
