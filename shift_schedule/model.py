"""The roster's value objects and the time arithmetic of shifts (pure, no I/O).

A shift definition is a local time window; a *shift instance* is that window on one date, as two
aware datetimes. The night shift of Monday runs from Monday 22:00 to Tuesday 06:00, so "who is on
now" at 02:00 looks at yesterday's instances too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

MINUTES_PER_DAY = 24 * 60


class RosterError(Exception):
    """An invalid roster change; `status` is the HTTP status the API answers with."""

    def __init__(self, message: str, *, status: int = 400, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    endpoint: str
    languages: frozenset[str]
    skills: frozenset[str]
    active: bool = True

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.endpoint}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "name": self.name, "endpoint": self.endpoint,
            "languages": sorted(self.languages), "skills": sorted(self.skills),
            "active": self.active,
        }


@dataclass(frozen=True)
class ShiftDef:
    id: str
    name_th: str
    name_en: str
    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        check_window(self.start_minute, self.end_minute)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    def instance(self, day: date, tz: tzinfo) -> ShiftInstance:
        start = _at(day, self.start_minute, tz)
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return ShiftInstance(self, day, start, _at(end_day, self.end_minute, tz))

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "name_th": self.name_th, "name_en": self.name_en,
            "start": format_minute(self.start_minute), "end": format_minute(self.end_minute),
            "crosses_midnight": self.crosses_midnight,
        }


@dataclass(frozen=True)
class ShiftInstance:
    shift: ShiftDef
    day: date
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def overlaps(self, other: ShiftInstance) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Assignment:
    id: int
    agent_id: str
    shift_id: str
    day: date
    covers_agent_id: str | None = None
    source: str = "pattern"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "agent_id": self.agent_id, "shift_id": self.shift_id,
            "day": self.day.isoformat(), "covers_agent_id": self.covers_agent_id,
            "source": self.source,
        }


@dataclass(frozen=True)
class Absence:
    id: int
    agent_id: str
    day: date
    shift_id: str | None  # None: the whole day
    reason: str

    def applies_to(self, agent_id: str, shift_id: str, day: date) -> bool:
        return (
            self.agent_id == agent_id and self.day == day
            and (self.shift_id is None or self.shift_id == shift_id)
        )

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "agent_id": self.agent_id, "day": self.day.isoformat(),
            "shift_id": self.shift_id, "reason": self.reason,
        }


@dataclass(frozen=True)
class Requirement:
    """At least `count` agents with `skill` who speak `language` on every instance of a shift."""

    shift_id: str
    skill: str
    language: str
    count: int


@dataclass(frozen=True)
class OnShift:
    """One agent working one shift instance (assigned and not absent)."""

    agent: Agent
    instance: ShiftInstance
    assignment: Assignment


def check_window(start_minute: int, end_minute: int) -> None:
    """A shift lies within one day's clock (00:00–24:00) and is not empty."""
    if not 0 <= start_minute < MINUTES_PER_DAY:
        raise RosterError("a shift must start between 00:00 and 23:59",
                          start=format_minute(start_minute))
    if not 0 < end_minute <= MINUTES_PER_DAY:
        raise RosterError("a shift must end between 00:01 and 24:00", end=format_minute(end_minute))
    if start_minute == end_minute % MINUTES_PER_DAY and end_minute != MINUTES_PER_DAY:
        raise RosterError("a shift cannot start and end at the same time",
                          start=format_minute(start_minute), end=format_minute(end_minute))


def parse_minute(text: str) -> int:
    """"HH:MM" (00:00–24:00) as minutes after midnight."""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise RosterError("a time must look like HH:MM", value=text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise RosterError("a time must be between 00:00 and 24:00", value=text)
    return value


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def instances_around(
    shifts: Iterable[ShiftDef], moment: datetime, tz: tzinfo, days: int = 1
) -> list[ShiftInstance]:
    """Every instance starting from `days` days before the moment's date to `days` after."""
    today = moment.astimezone(tz).date()
    return sorted(
        (s.instance(today + timedelta(days=d), tz) for s in shifts for d in range(-days, days + 1)),
        key=lambda i: (i.start, i.shift.id),
    )


def active_instances(
    shifts: Iterable[ShiftDef], moment: datetime, tz: tzinfo,
) -> list[ShiftInstance]:
    return [i for i in instances_around(shifts, moment, tz) if i.contains(moment)]


def next_boundary(shifts: Sequence[ShiftDef], moment: datetime, tz: tzinfo) -> datetime | None:
    """The next moment after `moment` when some shift starts or ends."""
    edges = [e for i in instances_around(shifts, moment, tz, days=2) for e in (i.start, i.end)]
    later = [e for e in edges if e > moment]
    return min(later) if later else None


def week_days(first: date) -> list[date]:
    return [first + timedelta(days=d) for d in range(7)]


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    if minute == MINUTES_PER_DAY:
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tz)
