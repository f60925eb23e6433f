"""Report periods: a calendar month or a date range in the centre's time zone, with Thai labels.

The Ministry dates its reports in the Buddhist era (ตุลาคม 2560 = October 2017): the Thai labels
come from triage.thai_text. A period turns into UTC bounds for SQL because the call log stores UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from triage.thai_text import format_thai_date, format_thai_month, from_buddhist_era

# Years a report can be about (Gregorian); anything else is a typing slip, not a period.
YEARS = range(1900, 2400)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A month or date range that cannot be read; the message says what was expected."""


def as_utc(moment: datetime) -> datetime:
    """A database timestamp as an aware UTC datetime (SQLite hands back naive ones for
    timezone=True columns; they were stored as UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def english_date(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or self.year not in YEARS:
            raise PeriodError(f"no such month: {self.year}-{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """"2017-10" (Gregorian, ISO 8601); a Buddhist-era year (2560-10) is accepted too."""
        match = _MONTH.match(text.strip())
        if match is None:
            raise PeriodError(f"month must look like 2017-10, got {text!r}")
        year, month = int(match.group(1)), int(match.group(2))
        if year > 2400:  # nobody reports on the 25th century: this is a Buddhist-era year
            year = from_buddhist_era(year)
        return cls(year, month)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> Month:
        local = moment.astimezone(tz)
        return cls(local.year, local.month)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def as_range(self) -> DateRange:
        return DateRange(self.first_day, self.last_day)

    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def label_th(self) -> str:
        """"ตุลาคม 2560"."""
        return format_thai_month(self.first_day)

    def label_en(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"


@dataclass(frozen=True)
class DateRange:
    """Whole local days, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"the range ends ({self.end}) before it starts ({self.start})")
        if self.start.year not in YEARS or self.end.year not in YEARS:
            raise PeriodError(f"dates must fall in the years {YEARS.start}–{YEARS.stop - 1}")

    @classmethod
    def parse(cls, start: str, end: str) -> DateRange:
        try:
            first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
        except ValueError:
            raise PeriodError(
                f"dates must look like 2024-02-01, got from={start!r} to={end!r}"
            ) from None
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[first instant, instant after the last day) in UTC, for `received_at` comparisons."""
        begin = datetime.combine(self.start, time(), tz)
        after = datetime.combine(self.end + timedelta(days=1), time(), tz)
        return begin.astimezone(UTC), after.astimezone(UTC)

    def label_th(self) -> str:
        return f"{format_thai_date(self.start)} – {format_thai_date(self.end)}"

    def label_en(self) -> str:
        return f"{english_date(self.start)} – {english_date(self.end)}"
