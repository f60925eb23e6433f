from __future__ import annotations

import random

import pytest

from ami import Backoff
from privacy import mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+66812345678", "+6681****5678"),
        ("+66 81 234 5678", "+6681****5678"),
        ("+6621234567", "+662****4567"),
        ("0812345678", "****5678"),
        ("081-234-5678", "****5678"),
        ("1300", "****0"),
        ("101", "****"),
        ("", ""),
        (None, ""),
        ("<unknown>", "<unknown>"),
        ("anonymous", "anonymous"),
    ],
)
def test_mask_number(number: str | None, masked: str) -> None:
    assert mask_number(number) == masked


def test_mask_number_never_reveals_whole_number() -> None:
    for length in range(1, 20):
        digits = "123456789012345678901"[:length]
        for text in (digits, "+" + digits):
            shown = "".join(ch for ch in mask_number(text) if ch.isdigit())
            assert len(shown) <= max(0, length - 3)


def test_backoff_grows_and_caps() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, multiplier=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(10_000) == 4.0  # no float overflow after a long outage


def test_backoff_jitter_stays_within_bounds() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, jitter=0.25)
    rng = random.Random(7)
    delays = [backoff.delay(3, rng) for _ in range(200)]
    assert all(6.0 <= d <= 8.0 for d in delays)
    assert len(set(delays)) > 100


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1}, {"initial": 5, "maximum": 1}, {"multiplier": 0.5}, {"jitter": 2}],
)
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
