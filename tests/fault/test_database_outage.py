"""The controller's PostgreSQL goes away for a while during traffic (a throw-away server from
scripts/postgres, stopped at once and started again on the same port).

Calls must keep routing meanwhile — Asterisk does not depend on the controller: queue membership
lives in Asterisk, and the dialplan checks QUEUE_MEMBER itself — and once the database is back,
nothing is lost: every call Asterisk counted is recorded, ended, with its stub delivered once at
its highest revision (the reconciler rebuilds what the tracker could not write).
(bench/faults_long.py runs the 60-second version.)"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import fault_scenarios as scenario
from bench import harness as h
from bench.fault_scenarios import Rig
from sandbox.instance import AsteriskInstance
from sip_traffic.runner import SippProcess
from tests.calls.receiver import CaseStore
from tests.fault.conftest import FAST_RETRIES
from tests.fault.test_asterisk_faults import assert_clean

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]
OUTAGE = 20.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[h.ThrowawayPostgres]:
    if not h.ThrowawayPostgres.available():
        pytest.skip("PostgreSQL is not installed")
    server = h.ThrowawayPostgres(Path(f"/tmp/line1300-fault-pg-{os.getpid()}"))
    server.start()
    yield server
    server.remove()


@pytest.fixture
async def pg_rig(
    fault_asterisk: AsteriskInstance, case_store: CaseStore, postgres: h.ThrowawayPostgres,
    tmp_path: Path,
) -> AsyncIterator[Rig]:
    database = postgres.database(f"fault_{uuid.uuid4().hex[:10]}")
    controller = h.ControllerProcess(fault_asterisk, tmp_path / "state", database,
                                     case_store.url, extra_env=FAST_RETRIES)
    await controller.start()
    yield Rig(fault_asterisk, controller, database, case_store, datetime.now(UTC))
    await controller.stop()


async def test_database_down_calls_route_and_nothing_is_lost(
    pg_rig: Rig, phones: SippProcess, postgres: h.ThrowawayPostgres,
) -> None:
    outcome = await scenario.database_down(pg_rig, postgres, outage=OUTAGE)
    assert_clean(outcome)
    routed = int(str(outcome.figures["calls_answered_by_agents_while_down"]))
    assert routed >= OUTAGE / 2, "calls stopped routing while the database was down"
    assert outcome.figures["sipp_failed"] == 0
