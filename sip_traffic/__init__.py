"""SIP traffic for tests and benchmarks: SIPp scenarios and an asyncio runner."""

from sip_traffic.runner import SippError, SippProcess, SippResult, run_sipp, start_sipp
from sip_traffic.scenarios import (
    Key,
    agent_scenario,
    caller_scenario,
    keys,
    ring_no_answer_scenario,
)

__all__ = [
    "Key",
    "SippError",
    "SippProcess",
    "SippResult",
    "agent_scenario",
    "caller_scenario",
    "keys",
    "ring_no_answer_scenario",
    "run_sipp",
    "start_sipp",
]
