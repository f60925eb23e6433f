"""The monthly report against a hand-counted fixture month: October 2560 (2017) beside September.

The expected figures below were counted by hand from the contact lists, not computed by the code
under test. Times are Bangkok local: a contact at 00:05 on 1 October is October's even though it
is still 30 September in UTC, and one at 00:00:30 on 1 November is not October's.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from outcomes.taxonomy import taxonomy
from reports.document import ReportDocument
from reports.facts import RefreshContactFacts
from reports.monthly import BuildMonthlyReport
from reports.period import Month
from storage import Database
from tests.reports.stubs import Contact, local, save

TZ = ZoneInfo("Asia/Bangkok")


def october() -> list[Contact]:
    callback_original = Contact(local(2017, 10, 14), line="international", country="DE",
                                disposition="callback_requested", callback_status="answered")
    return [
        Contact(local(2017, 10, 1, 0, 5), outcome={
            "category": "help_request", "problem_types": ["begging"], "province": "TH-10",
            "target_group": "homeless_beggar", "sex": "male"}),
        Contact(local(2017, 10, 3), outcome={
            "category": "counselling", "subtype": "stress", "target_group": "woman",
            "sex": "female"}),
        Contact(local(2017, 10, 4), outcome={
            "category": "counselling", "subtype": "family_relationships"}),
        Contact(local(2017, 10, 5), outcome={"category": "information_msdhs"}),
        Contact(local(2017, 10, 5, 11), outcome={"category": "information_outside"}),
        Contact(local(2017, 10, 6), outcome={"category": "information_outside"}),
        Contact(local(2017, 10, 7), outcome={
            "category": "referral", "problem_types": ["domestic_violence"], "province": "TH-50",
            "target_group": "child",
            "referral": {"urgency": "critical",
                         "destination": {"kind": "department", "id": "dcy", "country": None}}}),
        Contact(local(2017, 10, 8), outcome={
            "category": "referral", "problem_types": ["homelessness"], "province": "TH-10",
            "target_group": "homeless_beggar",
            "referral": {"urgency": "non_critical",
                         "destination": {"kind": "province", "id": "TH-54", "country": None}}}),
        Contact(local(2017, 10, 9), line="other", channel="walk_in", country=None, outcome={
            "category": "help_request", "problem_types": ["income_living"], "province": "TH-10",
            "target_group": "adult"}),
        Contact(local(2017, 10, 10), line="other", channel="operations_centre", country=None,
                outcome={"category": "field_visit", "problem_types": ["begging"],
                         "province": "TH-20", "target_group": "homeless_beggar",
                         "mobile_team_result": "shelter"}),
        Contact(local(2017, 10, 11), line="international", outcome={"category": "test_call"}),
        Contact(local(2017, 10, 12), line="international", country="MM",
                disposition="callback_requested", callback_status="no_answer"),
        Contact(local(2017, 10, 13), line="international", country="MM", outcome={
            "category": "counselling", "subtype": "stress"}),
        callback_original,
        # The agent's callback to the German caller: its outcome is the original contact's.
        Contact(local(2017, 10, 14, 15), line="callback", continues=callback_original.stub_id,
                outcome={"category": "help_request", "problem_types": ["stranded_abroad"]}),
        Contact(local(2017, 10, 15), disposition="abandoned"),
        Contact(local(2017, 10, 31, 23, 59), outcome={"category": "silent_prank"}),
        Contact(local(2017, 11, 1, 0, 0, 30), outcome={"category": "help_request"}),
    ]


def september() -> list[Contact]:
    return [
        Contact(local(2017, 9, 10), outcome={
            "category": "help_request", "problem_types": ["begging"], "province": "TH-10"}),
        Contact(local(2017, 9, 11), outcome={
            "category": "help_request", "problem_types": ["begging"], "province": "TH-11"}),
        Contact(local(2017, 9, 12), line="international", outcome={"category": "test_call"}),
        Contact(local(2017, 9, 13), outcome={"category": "counselling", "subtype": "stress"}),
        Contact(local(2017, 9, 30, 23, 30), outcome={"category": "information_outside"}),
    ]


def monthly(database: Database) -> BuildMonthlyReport:
    return BuildMonthlyReport(database, taxonomy(), TZ, RefreshContactFacts(database))


@pytest.fixture
async def report(database: Database) -> ReportDocument:
    await save(database, *october(), *september())
    return await monthly(database).execute(Month.parse("2017-10"))


def figure(report: ReportDocument, path: str) -> tuple[int, int | None, str | None]:
    f = report.figure(path)
    return f.current, f.previous, (str(f.trend) if f.trend else None)


async def test_month_is_dated_in_the_buddhist_era(report: ReportDocument) -> None:
    assert report.period.th == "ประจำเดือนตุลาคม 2560"
    assert report.period.en == "October 2017"
    assert report.previous_period is not None and report.previous_period.th == "กันยายน 2560"


async def test_totals_and_average_per_day_against_september(report: ReportDocument) -> None:
    assert figure(report, "service/total") == (16, 5, "↑")
    assert figure(report, "service/per_day") == (1, 0, "↑")
    assert figure(report, "service/phone_1300") == (10, 4, "↑")
    assert figure(report, "service/phone_international") == (4, 1, "↑")
    assert figure(report, "service/walk_in") == (1, 0, "↑")
    assert figure(report, "service/line") == (0, 0, "=")


async def test_counselling_and_advice_with_subtypes(report: ReportDocument) -> None:
    section = report.section("advice")
    assert section.total is not None and (section.total.current, section.total.previous) == (9, 4)
    assert figure(report, "advice/help_request") == (3, 2, "↑")
    assert figure(report, "advice/counselling") == (3, 1, "↑")
    assert figure(report, "advice/counselling.stress") == (2, 1, "↑")
    assert figure(report, "advice/counselling.family_relationships") == (1, 0, "↑")
    assert figure(report, "advice/information_msdhs") == (1, 0, "↑")
    assert figure(report, "advice/information_outside") == (2, 1, "↑")


async def test_referrals_by_urgency_and_department(report: ReportDocument) -> None:
    assert figure(report, "referrals/total") == (2, 0, "↑")
    assert figure(report, "referrals/total.critical") == (1, 0, "↑")
    assert figure(report, "referrals/total.urgent") == (0, 0, "=")
    assert figure(report, "referrals/total.non_critical") == (1, 0, "↑")
    assert figure(report, "referrals/to.department") == (1, 0, "↑")
    assert figure(report, "referrals/to.department.dcy") == (1, 0, "↑")
    assert figure(report, "referrals/to.department.critical") == (1, 0, "↑")
    assert figure(report, "referrals/to.province") == (1, 0, "↑")
    assert figure(report, "referrals/homeless_beggar") == (1, 0, "↑")


async def test_problem_types_split_bangkok_and_provinces(report: ReportDocument) -> None:
    assert figure(report, "problems/begging") == (2, 2, "=")
    assert figure(report, "problems/begging.bangkok") == (1, 1, "=")
    assert figure(report, "problems/begging.provinces") == (1, 1, "=")
    assert figure(report, "problems/homelessness") == (1, 0, "↑")
    assert figure(report, "problems/homelessness.bangkok") == (1, 0, "↑")
    assert figure(report, "problems/domestic_violence.provinces") == (1, 0, "↑")
    assert figure(report, "problems/stranded_abroad") == (1, 0, "↑")
    assert figure(report, "problems/field_visit") == (1, 0, "↑")
    assert figure(report, "area/bangkok") == (3, 1, "↑")
    assert figure(report, "area/provinces") == (2, 1, "↑")
    assert figure(report, "area/not_recorded") == (11, 3, "↑")


async def test_target_groups_walk_in_and_mobile_team(report: ReportDocument) -> None:
    assert figure(report, "target_groups/homeless_beggar") == (3, 0, "↑")
    assert figure(report, "target_groups/child") == (1, 0, "↑")
    assert figure(report, "walk_in/help_request") == (1, 0, "↑")
    assert figure(report, "mobile_team/shelter") == (1, 0, "↑")
    assert report.section("mobile_team").total is not None


async def test_international_by_country_and_result(report: ReportDocument) -> None:
    section = report.section("international")
    assert section.total is not None and (section.total.current, section.total.previous) == (4, 1)
    assert figure(report, "international/MM") == (2, 0, "↑")
    assert figure(report, "international/TH") == (1, 1, "=")
    assert figure(report, "international/DE") == (1, 0, "↑")
    assert figure(report, "international_results/test_call") == (1, 1, "=")
    assert figure(report, "international_results/callback_not_answered") == (1, 0, "↑")
    assert figure(report, "international_results/counselled") == (2, 0, "↑")
    myanmar = next(r for r in section.rows if r.key == "MM")
    assert myanmar.label.en == "Myanmar"


async def test_an_outcome_saved_later_shows_in_the_next_report(database: Database) -> None:
    abandoned = Contact(local(2017, 10, 20), disposition="answered")
    await save(database, abandoned)
    build = monthly(database)
    before = await build.execute(Month(2017, 10))
    assert before.figure("advice/help_request").current == 0
    abandoned.outcome = {"category": "help_request", "problem_types": ["income_living"]}
    await save(database, abandoned)
    after = await build.execute(Month(2017, 10))
    assert after.figure("advice/help_request").current == 1
    assert after.figure("service/total").current == 1
