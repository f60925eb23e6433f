"""The stub contract is checked by jsonschema-rs first (fast) and by jsonschema for the messages
(case_stubs/schema.py): jsonschema-rs must refuse every stub jsonschema refuses, and refuse more
only where it is stricter (it checks date-time formats; jsonschema needs an extra package)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from case_stubs import schema
from case_stubs.schema import StubInvalid, detailed_problems, problems, validate_stub
from tests.calls.conftest import Calls
from tests.calls.test_stub_service import A001, OUTCOME, answered_stub_id

# Values that break a field one way or another: wrong type, empty, badly formed.
ODD: tuple[Any, ...] = (
    None, "", "x", -1, 1.5, True, [], {}, ["x"], {"x": 1},
    "2026-13-45T25:61:00+07:00", "2026-11-25 10:00:00", "2026-11-25T10:00:00",
    "not-a-uuid", "0" * 36, "+66", "+6681234567890123", "TH ", "x" * 5000,
)


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if at:
        yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*at, index))


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def value_at(body: dict[str, Any], at: tuple[Any, ...]) -> Any:
    value: Any = body
    for key in at:
        value = value[key]
    return value


def replaced(body: dict[str, Any], at: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    holder: Any = changed
    for key in at[:-1]:
        holder = holder[key]
    holder[at[-1]] = value
    return changed


def without(body: dict[str, Any], at: tuple[Any, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    holder: Any = changed
    for key in at[:-1]:
        holder = holder[key]
    if isinstance(holder, dict):
        del holder[at[-1]]
    else:
        holder.pop(at[-1])
    return changed


def variants(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for at in paths(body):
        for value in ODD:
            yield replaced(body, at, value)
        yield without(body, at)
    yield {**body, "unknown_field": 1}


async def stubs(calls: Calls) -> list[dict[str, Any]]:
    stub_id = await answered_stub_id(calls)
    plain = (await calls.stubs.record_outcome(stub_id, OUTCOME, A001)).body
    return [plain]


async def test_both_validators_agree_on_every_broken_variant_of_a_real_stub(calls: Calls) -> None:
    [body] = await stubs(calls)
    assert problems(body) == [] and detailed_problems(body) == []
    checked = rejected = stricter = 0
    for variant in variants(body):
        fast_ok = schema._fast().is_valid(variant)
        slow_ok = detailed_problems(variant) == []
        assert not (fast_ok and not slow_ok), variant
        if slow_ok and not fast_ok:
            assert all("date-time" in p["message"] or "under any of the schemas" in p["message"]
                       for p in problems(variant)), problems(variant)
            stricter += 1
        checked += 1
        rejected += not fast_ok
    # The impossible date, in each of the stub's timestamps.
    assert stricter == sum(1 for at in paths(body) if TIMESTAMP.match(str(value_at(body, at))))
    # Most variants are broken; some (a null where null is allowed, a string for a free
    # text) are still stubs.
    assert checked > 500 and checked * 0.5 < rejected < checked, (checked, rejected)


async def test_a_broken_stub_is_refused_with_jsonschemas_messages(calls: Calls) -> None:
    [body] = await stubs(calls)
    broken = replaced(body, ("caller", "number"), "0812345678")
    with pytest.raises(StubInvalid) as caught:
        validate_stub(broken)
    assert caught.value.problems == detailed_problems(broken) != []
    assert caught.value.problems[0]["path"] == "/caller/number"


async def test_an_impossible_date_is_refused_though_jsonschema_alone_let_it_through(
    calls: Calls,
) -> None:
    [body] = await stubs(calls)
    broken = replaced(body, ("received_at",), "2026-13-45T25:61:00+07:00")
    assert detailed_problems(broken) == []
    with pytest.raises(StubInvalid) as caught:
        validate_stub(broken)
    assert [p["path"] for p in caught.value.problems] == ["/received_at"]
