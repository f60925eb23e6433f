"""Queue and agent KPIs on a hand-counted day (1 March 2024, Bangkok) of call records and agent
intervals. The expected figures were worked out by hand from the tables below."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent_routing.presence import PAUSE_REASONS
from agent_routing.skills import routing
from call_log.models import CallRow
from reports.activity import LOGGED_IN, PAUSED, AgentActivityRow
from reports.install import AFTER_CALL_WORK
from reports.kpis import ComputeKpis, KpiError, KpiFilter, KpiReport, QueueFigures
from reports.period import DateRange
from shift_schedule.bootstrap import SeedDefaultRoster
from shift_schedule.seed import load_seed
from storage import Database
from tests.reports.stubs import local

TZ = ZoneInfo("Asia/Bangkok")
DAY = DateRange.parse("2024-03-01", "2024-03-01")


def call(at: datetime, queue: str | None, language: str, *, wait: float | None = None,
         talk: float | None = None, hold: float = 0.0, agent: str | None = None,
         disposition: str = "answered") -> CallRow:
    received = at.astimezone(UTC)
    queued = received + timedelta(seconds=10) if queue else None
    answered = queued + timedelta(seconds=wait or 0) if queued and agent else None
    ended = None if disposition == "in_queue" else received + timedelta(minutes=30)
    linkedid = f"{received.timestamp():.0f}.{uuid.uuid4().hex[:6]}"
    return CallRow(
        linkedid=linkedid, line="domestic" if language == "th" else "international",
        dialed="1300", caller_number=None, caller_country="TH", language=language, ivr_path=[],
        priority="normal", queue=queue, received_at=received, queued_at=queued,
        answered_at=answered, ended_at=ended, wait_seconds=wait, talk_seconds=talk,
        hold_seconds=hold, agent_id=agent, ringing_agents=[agent] if agent else [],
        transfers=[], disposition=disposition, stub_id=str(uuid.uuid4()), source="ami",
        updated_at=received,
    )


def calls() -> list[CallRow]:
    return [
        call(local(2024, 3, 1, 9), "counsel-th", "th", wait=5, talk=120, hold=10, agent="A001"),
        call(local(2024, 3, 1, 9, 10), "counsel-th", "th", wait=30, talk=60, agent="A002"),
        call(local(2024, 3, 1, 10), "counsel-th", "th", wait=45, disposition="abandoned_queue"),
        call(local(2024, 3, 1, 15), "intl-en", "en", wait=15, talk=300, agent="A050"),
        call(local(2024, 3, 1, 16), "intl-km", "km", wait=90, disposition="callback_requested"),
        call(local(2024, 3, 1, 23, 30), "counsel-th", "th", wait=20, talk=200, agent="A003"),
        call(local(2024, 3, 2, 2), "counsel-th", "th", wait=5, talk=50, agent="A003"),  # next day
        call(local(2024, 3, 1, 11), None, "th", disposition="abandoned_ivr"),  # never queued
        call(local(2024, 3, 1, 5, 30), "intl-en", "en", wait=10, disposition="abandoned_queue"),
        call(local(2024, 3, 1, 12), "counsel-th", "th", wait=None, disposition="in_queue"),
    ]


def interval(agent: str, kind: str, start: datetime, end: datetime | None,
             reason: str | None = None) -> AgentActivityRow:
    return AgentActivityRow(agent_id=agent, kind=kind, reason=reason,
                            started_at=start.astimezone(UTC),
                            ended_at=end.astimezone(UTC) if end else None)


def activity() -> list[AgentActivityRow]:
    return [
        interval("A001", LOGGED_IN, local(2024, 3, 1, 8), local(2024, 3, 1, 12)),
        interval("A001", PAUSED, local(2024, 3, 1, 10), local(2024, 3, 1, 10, 15), "break"),
        interval("A001", PAUSED, local(2024, 3, 1, 9, 2), local(2024, 3, 1, 9, 3), AFTER_CALL_WORK),
        interval("A002", LOGGED_IN, local(2024, 2, 29, 20), local(2024, 3, 1, 2)),
    ]


@pytest.fixture
async def kpis(database: Database) -> ComputeKpis:
    await SeedDefaultRoster(database, load_seed()).execute()
    async with database.session() as s:
        s.add_all([*calls(), *activity()])
    return ComputeKpis(database, routing(), TZ, threshold=20, wrapup_seconds=30,
                       acw_reasons=frozenset({AFTER_CALL_WORK}))


def by_key(figures: Iterable[QueueFigures], key: str) -> dict[str, object]:
    rows = {f.key: f.as_json() for f in figures}
    return rows[key]


async def test_totals_follow_the_standard_definitions(kpis: ComputeKpis) -> None:
    total = (await kpis.execute(KpiFilter(DAY))).total.as_json()
    assert total["offered"] == 7
    assert total["answered"] == 4
    assert total["abandoned"] == 2
    assert total["callback_exits"] == 1
    assert total["answered_within_threshold"] == 3
    assert total["service_level"] == round(3 / 7, 4)
    assert total["abandon_rate"] == round(2 / 7, 4)
    assert total["asa"] == 17.5
    assert total["avg_abandon_time"] == 27.5
    assert total["longest_wait"] == 90
    assert total["longest_abandon"] == 45
    assert total["avg_talk"] == 170
    assert total["aht"] == 200  # talk 170 + 30 s automatic wrap-up


async def test_per_queue_language_and_shift(kpis: ComputeKpis) -> None:
    report = await kpis.execute(KpiFilter(DAY))
    counsel = by_key(report.by_queue, "counsel-th")
    assert (counsel["offered"], counsel["answered"], counsel["abandoned"]) == (4, 3, 1)
    assert counsel["service_level"] == 0.5
    assert by_key(report.by_queue, "intl-km")["callback_exits"] == 1
    assert {f.key: f.offered for f in report.by_language} == {"en": 2, "km": 1, "th": 4}
    assert {f.key: f.offered for f in report.by_shift} == {"afternoon": 2, "morning": 3, "night": 2}
    night = by_key(report.by_shift, "night")
    assert (night["answered"], night["abandoned"]) == (1, 1)


async def test_filters_by_shift_language_and_queue(kpis: ComputeKpis) -> None:
    assert (await kpis.execute(KpiFilter(DAY, shift="night"))).total.offered == 2
    assert (await kpis.execute(KpiFilter(DAY, language="km"))).total.offered == 1
    assert (await kpis.execute(KpiFilter(DAY, queue="intl-en"))).total.answered == 1
    with pytest.raises(KpiError) as caught:
        await kpis.execute(KpiFilter(DAY, shift="lunch"))
    assert caught.value.details["known"] == ["morning", "afternoon", "night"]


async def test_agent_time_pauses_and_occupancy(kpis: ComputeKpis) -> None:
    report: KpiReport = await kpis.execute(KpiFilter(DAY))
    agents = {a.agent_id: a.as_json() for a in report.by_agent}
    a001 = agents["A001"]
    assert (a001["answered"], a001["talk_time"], a001["hold_time"]) == (1, 120, 10)
    assert a001["logged_in_time"] == 4 * 3600
    assert a001["pause_by_reason"] == {"after_call_work": 60, "break": 900}
    assert a001["wrapup_time"] == 90  # 30 s automatic + 60 s after-call work
    assert a001["occupancy"] == round(210 / (14400 - 960 + 60), 4)
    assert a001["name"] != "A001"  # the roster's name
    # Logged in from 20:00 the day before until 02:00: two hours of them fall on the day.
    assert agents["A002"]["logged_in_time"] == 2 * 3600
    afternoon = await kpis.execute(KpiFilter(DAY, shift="afternoon"))
    assert [(a.agent_id, a.answered) for a in afternoon.by_agent] == [("A050", 1)]


def test_after_call_work_is_one_of_the_rosters_pause_reasons() -> None:
    assert AFTER_CALL_WORK in PAUSE_REASONS
