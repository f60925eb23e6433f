"""ApplyRoster against an in-memory queue table: the desired membership from the seed roster at
shift boundaries, differences only, idempotence, presence and pauses. (The same against the
real Asterisk: test_asterisk_roster.py.)"""

from __future__ import annotations

from collections import Counter

from agent_routing.agent_states import LogAgentOut, PauseAgent, UnpauseAgent
from agent_routing.apply import ApplyRoster
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from shift_schedule.clock import FixedClock
from storage import Database
from web.accounts import Role, User

from .conftest import KHMER, MemoryQueues, at

SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)


def _per_queue(queues: MemoryQueues) -> Counter[str]:
    return Counter(m.spec.queue for m in queues.table.values())


async def test_morning_shift_fills_every_queue_with_derived_penalties(
    reader: SituationReader,
) -> None:
    queues = MemoryQueues()
    report = await ApplyRoster(reader, queues, routing()).execute()
    assert report.ok and report.desired == len(queues.table)
    # 15 counsellors + 4 English desk in the Thai queues; the English desk alone in intl-en.
    assert _per_queue(queues) == {"counsel-th": 19, "critical-th": 19, "intl-th": 19, "intl-en": 4}
    desk = queues.table[("intl-en", "PJSIP/agent-016")].spec
    assert (desk.member_name, desk.penalty, desk.state_interface) == ("A016", 0, "PJSIP/agent-016")
    assert queues.table[("counsel-th", "PJSIP/agent-016")].spec.penalty == 1  # overflow skill
    assert queues.table[("intl-th", "PJSIP/agent-001")].spec.penalty == 2


async def test_second_run_sends_nothing(reader: SituationReader) -> None:
    queues = MemoryQueues()
    apply = ApplyRoster(reader, queues, routing())
    await apply.execute()
    sent = len(queues.actions)
    again = await apply.execute()
    assert again.changes == () and len(queues.actions) == sent


async def test_fourteen_hundred_brings_the_khmer_interpreter_and_twenty_two_takes_her_away(
    reader: SituationReader, clock: FixedClock,
) -> None:
    queues = MemoryQueues()
    apply = ApplyRoster(reader, queues, routing())
    clock.set(at(13, 59, 59))
    await apply.execute()
    assert "intl-km" not in _per_queue(queues)
    clock.set(at(14))
    report = await apply.execute()
    khmer_queue = [m.spec.member_name for m in queues.table.values() if m.spec.queue == "intl-km"]
    assert khmer_queue == [KHMER]
    # Only the difference: the morning out (15 counsellors x 3 queues + 4 desk x 4 = 61
    # QueueRemove), the afternoon in (13 x 3 + 4 x 4 + the Khmer interpreter x 4 = 59 QueueAdd).
    kinds = Counter(c.kind for c in report.changes)
    assert kinds == {"remove": 15 * 3 + 4 * 4, "add": 13 * 3 + 4 * 4 + 4}
    clock.set(at(22))
    await apply.execute()
    assert "intl-km" not in _per_queue(queues)
    assert _per_queue(queues)["counsel-th"] == 6


async def test_logout_and_pause_follow_presence(
    roster_db: Database, reader: SituationReader,
) -> None:
    queues = MemoryQueues()
    apply = ApplyRoster(reader, queues, routing())

    async def reconcile() -> bool:
        return (await apply.execute()).ok

    await apply.execute()
    await PauseAgent(roster_db, reader, reconcile).execute(SUPERVISOR, "A002", "training")
    paused = queues.table[("counsel-th", "PJSIP/agent-002")].spec
    assert (paused.paused, paused.reason) == (True, "training")
    await UnpauseAgent(roster_db, reader, reconcile).execute(SUPERVISOR, "A002")
    assert not queues.table[("counsel-th", "PJSIP/agent-002")].spec.paused
    await LogAgentOut(roster_db, reader, reconcile).execute(SUPERVISOR, "A003")
    assert not [k for k in queues.table if k[1] == "PJSIP/agent-003"]


async def test_a_member_added_behind_our_back_is_removed_and_a_changed_penalty_restored(
    reader: SituationReader,
) -> None:
    queues = MemoryQueues()
    apply = ApplyRoster(reader, queues, routing())
    await apply.execute()
    stranger = next(iter(queues.table.values())).spec
    from agent_routing.membership import MemberChange, MemberSpec

    await queues.apply([
        MemberChange("add", MemberSpec("counsel-th", "PJSIP/agent-070", "X", "PJSIP/agent-070", 0)),
        MemberChange("penalty", MemberSpec(**{**stranger.__dict__, "penalty": 7})),
    ])
    report = await apply.execute()
    assert sorted((c.kind, c.member.interface) for c in report.changes) == sorted(
        [("remove", "PJSIP/agent-070"), ("penalty", stranger.interface)])
    assert queues.table[stranger.key].spec.penalty == stranger.penalty
