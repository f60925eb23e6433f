"""A figure beside the previous period's: the ↑ ↓ = the Ministry's report prints next to it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Trend(enum.StrEnum):
    UP = "↑"
    DOWN = "↓"
    SAME = "="


@dataclass(frozen=True)
class Compared:
    """A count, and the previous period's when the report compares (None: no comparison)."""

    current: int
    previous: int | None = None

    @property
    def trend(self) -> Trend | None:
        if self.previous is None:
            return None
        if self.current > self.previous:
            return Trend.UP
        if self.current < self.previous:
            return Trend.DOWN
        return Trend.SAME

    def as_json(self) -> dict[str, int | str | None]:
        trend = self.trend
        return {
            "value": self.current, "previous": self.previous,
            "trend": str(trend) if trend else None,
        }
