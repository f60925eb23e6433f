"""The provincial report, shaped like seed 003 (Phrae, 1 Feb – 28 Aug 2567), on a hand-counted
handful of contacts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from outcomes.taxonomy import taxonomy
from reports.document import ReportDocument
from reports.facts import RefreshContactFacts
from reports.period import DateRange
from reports.provincial import BuildProvincialReport, UnknownProvince
from storage import Database
from tests.reports.stubs import Contact, local, save

TZ = ZoneInfo("Asia/Bangkok")
PHRAE = "TH-54"


def provincial(database: Database) -> BuildProvincialReport:
    return BuildProvincialReport(database, taxonomy(), TZ, RefreshContactFacts(database))


def phrae(district: str, **outcome: object) -> dict[str, object]:
    return {"category": "help_request", "province": PHRAE, "district": district, **outcome}


@pytest.fixture
async def report(database: Database) -> ReportDocument:
    await save(
        database,
        Contact(local(2024, 2, 1, 0, 10), outcome=phrae(
            "เมืองแพร่", sex="male", target_group="disabled", problem_types=["income_living"])),
        Contact(local(2024, 3, 5), outcome=phrae(
            "เมืองแพร่", sex="female", target_group="older_person",
            problem_types=["income_living", "health_accident_emergency"])),
        Contact(local(2024, 4, 9), outcome=phrae(
            "ลอง", sex="female", target_group="child", problem_types=["rights_welfare_law"])),
        Contact(local(2024, 8, 28, 23, 50), line="other", channel="operations_centre",
                country=None, outcome=phrae("ร้องกวาง", sex="male", target_group="disabled",
                                            problem_types=["income_living"])),
        # Outside the range or the province: not counted.
        Contact(local(2024, 8, 29, 0, 5), outcome=phrae("ลอง", sex="male")),
        Contact(local(2024, 1, 31, 23, 59), outcome=phrae("ลอง", sex="male")),
        Contact(local(2024, 5, 1), outcome={"category": "help_request", "province": "TH-50",
                                            "district": "สันทราย", "sex": "male"}),
    )
    period = DateRange.parse("2024-02-01", "2024-08-28")
    return await provincial(database).execute(PHRAE, period)


def value(report: ReportDocument, path: str) -> int:
    return report.figure(path).current


async def test_header_names_the_province_and_buddhist_era_dates(report: ReportDocument) -> None:
    assert report.title.th.endswith("จังหวัดแพร่")
    assert report.period.th == "ข้อมูลตั้งแต่วันที่ 1 กุมภาพันธ์ 2567 – 28 สิงหาคม 2567"
    assert report.figure("summary/total").previous is None  # no comparison in this report


async def test_counts_by_district_channel_group_sex_problem(report: ReportDocument) -> None:
    assert value(report, "summary/total") == 4
    assert value(report, "districts/district.เมืองแพร่") == 2
    assert value(report, "districts/district.ลอง") == 1
    assert value(report, "districts/district.ร้องกวาง") == 1
    assert report.section("districts").rows[0].key == "district.เมืองแพร่"
    assert value(report, "channels/phone_1300") == 3
    assert value(report, "channels/operations_centre") == 1
    assert value(report, "channels/walk_in") == 0
    assert value(report, "target_groups/disabled") == 2
    assert value(report, "target_groups/older_person") == 1
    assert value(report, "sex/male") == 2
    assert value(report, "sex/female") == 2
    assert value(report, "problems/income_living") == 3
    assert value(report, "problems/health_accident_emergency") == 1
    assert report.section("problems").rows[0].key == "income_living"


async def test_unknown_province_is_refused_with_the_known_ids(database: Database) -> None:
    with pytest.raises(UnknownProvince) as caught:
        await provincial(database).execute(
            "TH-99", DateRange.parse("2024-02-01", "2024-02-02")
        )
    assert PHRAE in caught.value.known
