"""Validation of every stub against the project's copy of the case-store contract.

The schema lives in contracts/case_stub.schema.json (JSON Schema 2020-12) next to the contract's
prose (contracts/CASE_STORE.md); a stub that fails it is never queued for the case store.

Every stub revision is validated (three or four per call). jsonschema took 0.5 ms a stub, a
sixth of the controller's CPU per call under load; jsonschema-rs (compiled) takes 3 µs. So a
stub is accepted by jsonschema-rs, and only a rejected one is looked at again by jsonschema,
whose messages the API has always given. Both implement Draft 2020-12 with formats checked;
tests/calls/test_stub_schema.py keeps them in agreement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

from settings import repo_root

SCHEMA_PATH: Final = repo_root() / "contracts" / "case_stub.schema.json"


class StubInvalid(ValueError):
    """A stub that does not match the contract; `problems` lists each as {"path", "message"}."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


@cache
def _validator(path: Path = SCHEMA_PATH) -> Draft202012Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@cache
def _fast(path: Path = SCHEMA_PATH) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(_validator(path).schema, validate_formats=True)


def schema() -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = _validator().schema
    return loaded


def problems(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every way `body` breaks the contract (empty when it is a valid stub)."""
    if _fast().is_valid(body):
        return []
    return detailed_problems(body) or fast_problems(body)


def detailed_problems(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """jsonschema's account of `body`'s faults."""
    errors = sorted(_validator().iter_errors(body), key=lambda e: list(e.absolute_path))
    return [
        {"path": "/" + "/".join(str(p) for p in e.absolute_path), "message": e.message}
        for e in errors
    ]


def fast_problems(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """jsonschema-rs's account (used where jsonschema, more lenient on a format, saw none)."""
    return [
        {"path": "/" + "/".join(str(p) for p in e.instance_path), "message": e.message}
        for e in _fast().iter_errors(body)
    ]


def validate_stub(body: Mapping[str, Any]) -> None:
    found = problems(body)
    if found:
        raise StubInvalid(found)
