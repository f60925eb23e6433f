"""Every REST endpoint fuzzed from the app's own OpenAPI description (schemathesis): inputs that
follow the schemas and inputs that break them, signed in as an agent and as a supervisor.

Whatever comes in: no 5xx (a 503 that says in JSON why the service is not there is an answer,
not a crash), and every refusal is a 4xx whose JSON body says what is wrong ({"error": ...}).
Runs derandomized, so a failure in CI fails the same way on a laptop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode, Response
from schemathesis.core.result import Ok

from settings import Settings
from tests.bad_input.live_app import LiveApp, live_app

if TYPE_CHECKING:  # schemathesis's own names for its OpenAPI operations and cases
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation

EXAMPLES = 12
# Signing out would end the fuzzing session itself.
SKIPPED = {("POST", "/api/logout")}


@dataclass
class Findings:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    unclear_refusals: list[str] = field(default_factory=list)

    def judge(self, label: str, response: Response) -> None:
        self.requests += 1
        status = response.status_code
        body = _json(response)
        where = f"{label} -> {status} {response.text[:160]!r}"
        if status >= 500 and not (status == 503 and _has_error(body)):
            self.server_errors.append(where)
        elif 400 <= status < 500 and not _has_error(body):
            self.unclear_refusals.append(where)


def _json(response: Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _has_error(body: object) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str) and bool(body["error"])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    from storage import upgrade_to_head
    from tests.conftest import PG_URL

    state = tmp_path_factory.mktemp("fuzz-state")
    url = f"sqlite+aiosqlite:///{state / 'fuzz.sqlite3'}"
    if PG_URL:
        pytest.skip("fuzzing runs once, on SQLite (the handlers are the same)")
    upgrade_to_head(url)
    from settings import load_settings

    settings: Settings = load_settings(env={"LINE1300_GENERAL_STATE_DIR": str(state),
                                            "LINE1300_DATABASE_URL": url})
    with live_app(settings) as running:
        yield running


@pytest.mark.parametrize("username", ["agent1", "supervisor"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_get_answers_not_crashes(
    app: LiveApp, username: str, mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_url(f"{app.base}/api/openapi.json")
    http = app.session(username)
    findings = Findings()
    operations: list[OpenApiOperation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the app's OpenAPI description: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 40
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        _fuzz(operation, mode, http, app.base, findings)
    print(f"\n{username}, {mode.value}: {findings.requests} requests to {len(operations)} "
          f"operations; {len(findings.server_errors)} server errors, "
          f"{len(findings.unclear_refusals)} refusals without a JSON error")
    assert findings.server_errors == []
    assert findings.unclear_refusals == []


def _fuzz(operation: OpenApiOperation, mode: GenerationMode, http: requests.Session,
          base: str, findings: Findings) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @hsettings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: OpenApiCase) -> None:
        response = case.call(base_url=base, session=http, timeout=30)
        findings.judge(f"{label} {case.path_parameters or ''} {case.query or ''}", response)

    try:
        one()
    except schemathesis.errors.SchemathesisError as exc:  # nothing to generate for it
        pytest.fail(f"{label}: cannot fuzz: {exc}")
