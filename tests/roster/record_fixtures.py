"""Re-record tests/roster/fixtures/asterisk22_roster.jsonl from a real Asterisk (not a test).

    .venv/bin/python -m tests.roster.record_fixtures

The stream: three members added over AMI (one paused for training), one call answered by agent
A001 and ended (QueueMemberStatus, AgentCalled, AgentConnect, AgentComplete), then a
QueueStatus answer. Inbound bytes only (the recorder never keeps the AMI secret); the caller
is the test number 0812345678.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ami import AmiLink, StreamRecorder
from dialplans.minimal import minimal_extensions
from sandbox.instance import AsteriskInstance
from sandbox.provision import ensure_asterisk
from settings import load_settings
from sip_traffic.runner import run_sipp, start_sipp
from sip_traffic.scenarios import agent_scenario, caller_scenario

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "asterisk22_roster.jsonl"
MEMBERS = [
    ("counsel-th", "PJSIP/agent-001", "A001", "0", "false"),
    ("intl-en", "PJSIP/agent-016", "A016", "0", "false"),
    ("counsel-th", "PJSIP/agent-016", "A016", "1", "false"),
    ("counsel-th", "PJSIP/agent-002", "A002", "0", "true"),
]


async def record() -> None:
    settings = load_settings()
    instance = AsteriskInstance.for_tests(ensure_asterisk(settings.asterisk), settings,
                                          dialplan=minimal_extensions)
    instance.start()
    c = instance.config.controller
    recorder = StreamRecorder(FIXTURE)
    link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret, recorder=recorder)
    try:
        await link.start()
        await link.wait_connected(timeout=10)
        for queue, interface, name, penalty, paused in MEMBERS:
            await link.send({"Action": "QueueAdd", "Queue": queue, "Interface": interface,
                             "MemberName": name, "StateInterface": interface,
                             "Penalty": penalty, "Paused": paused})
        await link.send({"Action": "QueuePause", "Queue": "counsel-th",
                         "Interface": "PJSIP/agent-002", "Paused": "true", "Reason": "training"})
        phone = await start_sipp(agent_scenario(ring=0.3, talk=1.0), name="agent",
                                 local_port=instance.ports.agent_sip)
        await run_sipp(caller_scenario(caller="0812345678", hangup_after=None), name="caller",
                       remote=f"127.0.0.1:{instance.ports.sip}", service="1300", calls=1,
                       local_port=instance.ports.trunk, timeout=30)
        await phone.stop()
        await asyncio.sleep(1.0)
        await link.send({"Action": "QueueStatus"})
    finally:
        await link.close()
        recorder.close()
        instance.stop(remove=True)
    print(f"recorded {FIXTURE}")


if __name__ == "__main__":
    asyncio.run(record())
