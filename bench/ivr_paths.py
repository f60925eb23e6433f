"""Benchmark: how long callers spend in the IVR before they reach a queue.

    .venv/bin/python -m bench.ivr_paths [--live N]

1. From the real prompt recordings (recordings/prompts/) and the timeouts of config/ivr.toml:
   seconds of IVR per line and language before a caller is in a queue, for a caller who
   presses the emergency key in the first second, one who listens to the whole greeting and
   menu and then chooses, and one who never presses a key (the default-queue path).
2. ``--live N``: starts its own Asterisk with the generated dialplan (prompts replaced by
   0.15 s tones, so only the dialplan's own work is measured), places N calls that press the
   emergency key, and reports Asterisk's own timestamps from the key (DTMFEnd) to the caller's
   QueueCallerJoin: the time the dialplan takes to route a person in crisis.

Prints the figures; exits 1 if an emergency caller needs more than 5 s of IVR on any line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import wave
from pathlib import Path, PurePosixPath

from agent_routing.skills import RoutingDefinition, routing
from dialplans.extensions import LANG_VAR, DialplanBuilder, DialplanPaths
from ivr.definition import IvrDefinition, LineFlow, ivr_definition
from recordings.catalog import DEFAULT_ROOT

EMERGENCY_LIMIT_SECONDS = 5.0
FIRST_KEY_SECONDS = 1.0


def prompt_seconds(path: str, language: str, root: Path) -> float:
    relative = path.removeprefix("line1300/").replace(LANG_VAR, language)
    with wave.open(str(root / f"{relative}.wav"), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def total(paths: list[str], language: str, root: Path) -> float:
    return sum(prompt_seconds(p, language, root) for p in paths)


def line_figures(
    flow: LineFlow, language: str, builder: DialplanBuilder, ivr: IvrDefinition, root: Path
) -> tuple[float, float, float]:
    """(emergency key at 1 s, listen to everything then choose, never press a key)."""
    p, t = ivr.prompts, ivr.timing
    one = builder.prompt
    greeting = total(builder.greeting_files(flow), flow.default_language, root)
    menu = total(builder.menu_files(), language, root)
    # The emergency caller is queued at once; "emergency-connecting" plays over the music.
    emergency = FIRST_KEY_SECONDS
    if flow.language_mode == "switch":
        before_menu = greeting + t.language_timeout
        listen = before_menu + menu + total([one(p.connecting)], language, root)
        silent = (
            before_menu
            + t.menu_attempts * (menu + t.menu_timeout)
            + (t.menu_attempts - 1) * total([one(p.no_input)], language, root)
            + total([one(p.default_queue)], language, root)
        )
    else:
        listen = greeting + menu + total([one(p.connecting)], language, root)
        silent = (
            t.menu_attempts * (greeting + t.menu_timeout)
            + (t.menu_attempts - 1) * total([one(p.no_input)], flow.default_language, root)
            + total([one(p.default_queue)], flow.default_language, root)
        )
    return emergency, listen, silent


def print_static(ivr: IvrDefinition, definition: RoutingDefinition, root: Path) -> float:
    builder = DialplanBuilder(
        ivr, definition, DialplanPaths(PurePosixPath("/"), PurePosixPath("/"))
    )
    worst_emergency = 0.0
    print(f"seconds of IVR before the queue (prompts in {root})")
    print(f"{'line':<14}{'lang':<6}{'emergency key':>14}{'listen+choose':>15}{'no key at all':>15}")
    for flow in ivr.lines.values():
        for language in definition.languages:
            emergency, listen, silent = line_figures(flow, language, builder, ivr, root)
            worst_emergency = max(worst_emergency, emergency)
            print(f"{flow.line:<14}{language:<6}{emergency:>14.1f}{listen:>15.1f}{silent:>15.1f}")
    return worst_emergency


async def live(calls: int) -> list[float]:
    from ami import AmiLink, Event
    from sandbox.instance import AsteriskInstance
    from sandbox.provision import ensure_asterisk
    from settings import load_settings
    from sip_traffic.dtmf import with_renumbered_keys
    from sip_traffic.runner import run_sipp, start_sipp
    from sip_traffic.scenarios import Key, agent_scenario, caller_scenario
    from tests.ivr.conftest import _short_prompts

    state = Path(tempfile.mkdtemp(prefix="bench-ivr-"))
    settings = load_settings(env={**os.environ, "LINE1300_GENERAL_STATE_DIR": str(state)})
    instance = AsteriskInstance.for_tests(
        ensure_asterisk(settings.asterisk, print), settings, agent_count=2
    )
    instance.start()
    _short_prompts(instance)
    events: list[Event] = []
    admin = instance.config.admin
    link = AmiLink("127.0.0.1", instance.ports.ami, admin.username, admin.secret)
    link.subscribe(events.append, "DTMFEnd", "QueueCallerJoin")
    try:
        await link.start()
        await link.wait_connected(10)
        await link.send(
            {"Action": "QueueAdd", "Queue": "critical-th", "Interface": "PJSIP/agent-001"}
        )
        phone = await start_sipp(
            agent_scenario(ring=0.2, talk=0.5), name="agent", local_port=instance.ports.agent_sip
        )
        for _ in range(calls):
            xml = caller_scenario(
                keys_pressed=[Key("9", FIRST_KEY_SECONDS)], hangup_after=2.0, audio=False
            )
            xml = with_renumbered_keys(xml, Path(tempfile.mkdtemp(prefix="bench-keys-")))
            await run_sipp(
                xml,
                name="caller",
                remote=f"127.0.0.1:{instance.ports.sip}",
                service="1300",
                calls=1,
                timeout=30,
            )
        await phone.stop()
        await asyncio.sleep(0.5)
    finally:
        await link.close()
        instance.stop(remove=True)
    return _latencies(events)


def _latencies(events: list) -> list[float]:  # type: ignore[type-arg]
    keys = {
        e.get("Uniqueid"): float(e.get("Timestamp") or 0)
        for e in events
        if e.name == "DTMFEnd" and e.get("Direction") == "Received"
    }
    joins = {
        e.get("Uniqueid"): float(e.get("Timestamp") or 0)
        for e in events
        if e.name == "QueueCallerJoin"
    }
    return [joins[u] - keys[u] for u in keys if u in joins]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--live", type=int, default=0, metavar="N", help="also measure N real calls"
    )
    parser.add_argument("--prompts", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args()
    worst = print_static(ivr_definition(), routing(), args.prompts)
    if args.live:
        latencies = asyncio.run(live(args.live))
        if latencies:
            ms = sorted(x * 1000 for x in latencies)
            print(
                f"\nemergency key -> QueueCallerJoin, {len(ms)} calls: "
                f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"
            )
        else:
            print("\nno call reached the queue", file=sys.stderr)
            return 1
    print(f"\nworst emergency path: {worst:.1f} s (limit {EMERGENCY_LIMIT_SECONDS:.0f} s)")
    return 0 if worst <= EMERGENCY_LIMIT_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
