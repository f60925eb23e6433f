"""Agents' logged-in and paused intervals, recorded from queue-member events into the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ami import Event
from reports.activity import ActivityStore, AgentActivityRow, RecordAgentActivity
from storage import Database

T0 = 1_709_260_000  # 2024-03-01 02:26:40 UTC


def member(event: str, queue: str, *, at: int, paused: bool = False, reason: str = "",
           login: int = 0, agent: str = "A001") -> Event:
    return Event.build(event, {
        "Queue": queue, "MemberName": agent, "Interface": "PJSIP/agent-001",
        "Paused": "1" if paused else "0", "PausedReason": reason, "LoginTime": str(login),
        "LastPause": "0", "Timestamp": f"{at}.000000",
    })


async def rows(db: Database) -> list[tuple[str, str, str | None, float, float | None]]:
    async with db.session() as s:
        found = (await s.execute(select(AgentActivityRow).order_by(AgentActivityRow.id))).scalars()
        return [(r.agent_id, r.kind, r.reason, _epoch(r.started_at),
                 _epoch(r.ended_at) if r.ended_at else None) for r in found]


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


async def test_login_pause_in_every_queue_and_logout(database: Database) -> None:
    recorder = RecordAgentActivity(ActivityStore(database))
    await recorder.on_event(member("QueueMemberAdded", "counsel-th", at=T0))
    await recorder.on_event(member("QueueMemberAdded", "critical-th", at=T0 + 1))
    # Paused in one queue only: calls of the other still reach the agent.
    await recorder.on_event(member("QueueMemberPause", "counsel-th", at=T0 + 60, paused=True,
                                   reason="break"))
    await recorder.on_event(member("QueueMemberPause", "critical-th", at=T0 + 61, paused=True,
                                   reason="break"))
    await recorder.on_event(member("QueueMemberPause", "counsel-th", at=T0 + 900))
    await recorder.on_event(member("QueueMemberRemoved", "counsel-th", at=T0 + 3600))
    await recorder.on_event(member("QueueMemberRemoved", "critical-th", at=T0 + 3601,
                                   paused=True, reason="break"))
    assert await rows(database) == [
        ("A001", "logged_in", None, T0, T0 + 3601),
        ("A001", "paused", "break", T0 + 61, T0 + 900),
        # Out of counsel-th, the agent was left only in a queue where they were paused.
        ("A001", "paused", "break", T0 + 3600, T0 + 3601),
    ]


async def test_after_a_reconnect_the_table_follows_queue_status(database: Database) -> None:
    now = datetime.fromtimestamp(T0 + 7200, UTC)
    recorder = RecordAgentActivity(ActivityStore(database), clock=lambda: now)
    await recorder.on_event(member("QueueMemberAdded", "counsel-th", at=T0, agent="A002"))
    # While the controller was away: A002 was removed, A003 logged in at T0 + 5000 and paused.
    await recorder.on_snapshot([Event.build("QueueMember", {
        "Queue": "counsel-th", "Name": "A003", "Location": "PJSIP/agent-003",
        "LoginTime": str(T0 + 5000), "Paused": "1", "PausedReason": "meeting",
        "LastPause": str(T0 + 6000)})])
    assert await rows(database) == [
        ("A002", "logged_in", None, T0, T0 + 7200),
        ("A003", "logged_in", None, T0 + 5000, None),
        ("A003", "paused", "meeting", T0 + 6000, None),
    ]
    await recorder.on_snapshot([Event.build("QueueMember", {
        "Queue": "counsel-th", "Name": "A003", "Location": "PJSIP/agent-003",
        "LoginTime": str(T0 + 5000), "Paused": "1", "PausedReason": "meeting"})])
    assert len(await rows(database)) == 3  # nothing changed, nothing written


async def test_a_restart_never_leaves_two_open_intervals(database: Database) -> None:
    before = RecordAgentActivity(ActivityStore(database))
    await before.on_event(member("QueueMemberAdded", "counsel-th", at=T0))
    after_restart = RecordAgentActivity(ActivityStore(database))  # knows nothing yet
    await after_restart.on_event(member("QueueMemberAdded", "critical-th", at=T0 + 100))
    assert await rows(database) == [
        ("A001", "logged_in", None, T0, T0 + 100),
        ("A001", "logged_in", None, T0 + 100, None),
    ]
