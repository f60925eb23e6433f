"""Reconnect delays: exponential, capped, with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before reconnect attempt number ``attempt`` (0-based).

    The delay grows ``initial * multiplier**attempt`` up to ``maximum``; jitter
    then removes up to ``jitter`` (a fraction) of it, so the cap is never
    exceeded and several controllers restarted together do not hammer a
    recovering Asterisk in lock-step.
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial:
            raise ValueError("Backoff needs 0 <= initial <= maximum")
        if self.multiplier < 1:
            raise ValueError("Backoff multiplier must be >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("Backoff jitter must be within [0, 1]")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        # Grow step by step and stop at the cap: multiplier**attempt would
        # overflow a float after a long outage.
        base = self.initial
        for _ in range(max(0, attempt)):
            base *= self.multiplier
            if base >= self.maximum:
                base = self.maximum
                break
        base = min(base, self.maximum)
        if self.jitter == 0:
            return base
        draw = (rng or random).random()
        return base * (1.0 - self.jitter * draw)
