"""Report periods: Buddhist-era input and labels, local days as UTC bounds, clear refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.period import DateRange, Month, PeriodError

TZ = ZoneInfo("Asia/Bangkok")


def test_a_month_in_either_era_and_its_labels() -> None:
    assert Month.parse("2560-10") == Month.parse("2017-10") == Month(2017, 10)
    assert Month(2017, 10).label_th() == "ตุลาคม 2560"
    assert Month(2018, 1).previous() == Month(2017, 12)
    assert Month(2020, 2).days == 29


def test_local_days_become_utc_bounds() -> None:
    start, end = Month(2017, 10).as_range().utc_bounds(TZ)
    assert start == datetime(2017, 9, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2017, 10, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start", "end", "says"), [
    ("2024-03-01", "2024-02-01", "before it starts"),
    ("9999-12-30", "9999-12-31", "years"),
    ("1 Feb", "2024-02-02", "look like"),
])
def test_bad_ranges_are_refused_saying_why(start: str, end: str, says: str) -> None:
    with pytest.raises(PeriodError, match=says):
        DateRange.parse(start, end)
