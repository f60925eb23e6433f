"""The fault scenarios at full length (tests/fault runs them short in CI):

    .venv/bin/python -m bench.faults_long [--only killed,store,database,restart,half-open]
        [--controller-outage 300] [--store-outage 600] [--database-outage 60]

  killed     the controller SIGKILLed for --controller-outage seconds while calls continue; on
             restart it reconciles the calls it missed from Asterisk's CEL and queue_log
  store      the case store down for --store-outage seconds, then back
  database   the controller's PostgreSQL stopped for --database-outage seconds
  restart    Asterisk `core restart now` mid-traffic, with an Originate in flight
  half-open  the AMI socket silently dropping packets (iptables), for a minute

Each prints the books of its run (calls Asterisk counted, recorded, lost, duplicated, stubs
delivered once at their highest revision) and its own figures; exit status 1 if any is unclean.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import fault_scenarios as scenario
from bench import harness as h
from bench.fault_scenarios import Outcome, Rig
from sandbox.instance import AsteriskInstance
from tests.calls.receiver import CaseStore

RETRIES = {
    "LINE1300_CASE_STORE_BACKOFF_INITIAL": "1.0",
    "LINE1300_CASE_STORE_BACKOFF_MAX": "30.0",
}
Scenario = Callable[[Rig], Awaitable[Outcome]]


async def with_rig(instance: AsteriskInstance, folder: Path, database: str,
                   run: Scenario) -> Outcome:
    store = await CaseStore().start()
    controller = h.ControllerProcess(instance, folder / "state", database, store.url,
                                     extra_env=RETRIES)
    phones = await h.agent_phones(instance, ring=0.3, talk=2.0)
    try:
        await controller.start()
        outcome = await run(Rig(instance, controller, database, store, datetime.now(UTC)))
    finally:
        await controller.stop()
        await phones.stop()
        await store.stop()
    return outcome


async def main(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="line1300-faults-"))
    settings = h.base_settings(root / "asterisk")
    instance = h.new_instance(h.asterisk_runtime(settings), settings, "faults")
    if scenario.iptables_usable():
        scenario.clear_silence(instance.ports.ami)
    instance.start()
    postgres = None
    outcomes: list[Outcome] = []
    try:
        wanted = args.only.split(",")
        plan: list[tuple[str, Scenario]] = [
            ("killed", lambda rig: scenario.controller_killed(rig, args.controller_outage)),
            ("store", lambda rig: scenario.case_store_down(
                rig, args.store_outage, calls=int(args.store_outage) + 16)),
            ("restart", scenario.core_restart),
            ("half-open", lambda rig: scenario.half_open(rig, silence=60)),
        ]
        for n, (name, run) in enumerate(plan):
            if name in wanted:
                folder = root / f"{n}-{name}"
                outcome = await with_rig(instance, folder, h.sqlite_url(folder / "db.sqlite3"),
                                         run)
                outcomes.append(outcome)
                print(outcome.line(), flush=True)
        if "database" in wanted and h.ThrowawayPostgres.available():
            postgres = h.ThrowawayPostgres(Path(f"/tmp/line1300-faults-pg-{os.getpid()}"))
            postgres.start()
            pg = postgres
            outcome = await with_rig(
                instance, root / "database", postgres.database("faults"),
                lambda rig: scenario.database_down(rig, pg, args.database_outage))
            outcomes.append(outcome)
            print(outcome.line(), flush=True)
    finally:
        instance.stop(remove=True)
        if postgres is not None:
            postgres.remove()
    return 0 if all(o.books.clean for o in outcomes) else 1


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="killed,store,database,restart,half-open")
    p.add_argument("--controller-outage", type=float, default=300.0)
    p.add_argument("--store-outage", type=float, default=600.0)
    p.add_argument("--database-outage", type=float, default=60.0)
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_args())))
