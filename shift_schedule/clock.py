"""The clock every roster decision reads, injected so that tests can stand at 13:59:59 without
waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told (tests, benchmarks, "what if" questions)."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = moment

    def advance(self, delta: timedelta) -> None:
        self._moment += delta


def utc(moment: datetime) -> datetime:
    """Stored moments are UTC: SQLite keeps no offset, so a local time would read back wrong."""
    return moment.astimezone(UTC)


def aware(moment: datetime) -> datetime:
    """A moment read back from SQLite (naive, stored as UTC) made aware again."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
