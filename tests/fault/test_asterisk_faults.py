"""Faults with the real Asterisk 22 and SIPp traffic running, against the controller as a process
of its own: Asterisk restarting under it, its AMI socket going silent (half-open), the controller
killed while calls go on, the case store down. Each prints its figures and the books of the run:
Asterisk's own count of calls (CDR) against the controller's records and the stubs the case store
received — lost and duplicated must be 0. The scenarios are bench/fault_scenarios.py; their long
versions (a 5-minute controller outage, a 10-minute case-store outage) are bench/faults_long.py.
"""

from __future__ import annotations

import pytest

from bench import fault_scenarios as scenario
from bench import harness as h
from bench.fault_scenarios import Outcome, Rig
from sip_traffic.runner import SippProcess

pytestmark = pytest.mark.asterisk


def assert_clean(outcome: Outcome) -> None:
    print("\n" + outcome.line())
    books: h.Accounting = outcome.books
    assert books.asterisk > 0, "no call got through at all"
    assert books.lost == [] and books.duplicated == []
    assert books.not_ended == []
    assert books.stubs_missing == [] and books.stubs_not_delivered == []
    assert books.deliveries_repeated == []


async def test_core_restart_mid_traffic(rig: Rig, phones: SippProcess) -> None:
    outcome = await scenario.core_restart(rig)
    assert_clean(outcome)
    assert outcome.figures["originate_executed"] == 1, "an Originate in flight was sent again"
    assert float(str(outcome.figures["seconds_to_recovery"])) < 30


async def test_half_open_ami_socket_is_detected_and_replaced(
    rig: Rig, phones: SippProcess,
) -> None:
    if not scenario.iptables_usable():
        pytest.skip("iptables is not usable here")
    outcome = await scenario.half_open(rig)
    assert_clean(outcome)
    assert float(str(outcome.figures["detected_after"])) <= 15
    assert (outcome.figures["originate_in_flight"], outcome.figures["originate_executed"]) == (
        "lost", 1)


async def test_controller_killed_while_calls_continue(rig: Rig, phones: SippProcess) -> None:
    assert_clean(await scenario.controller_killed(rig, outage=20))


async def test_case_store_down_then_back(rig: Rig, phones: SippProcess) -> None:
    outcome = await scenario.case_store_down(rig, outage=20)
    assert_clean(outcome)
    assert int(str(outcome.figures["stubs_waiting_at_return"])) > 0, "the outage went unseen"
