"""``python -m sip_traffic call 1300 --keys 2 --pause 12``: one real SIP call from the carrier side.

For a person trying the run command: the call comes in on the trunk like a caller's would,
presses the menu keys as RFC 2833 DTMF, and stays on the line until Asterisk hangs up or
``--hold`` seconds pass.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from settings import load_settings
from sip_traffic.dtmf import with_renumbered_keys
from sip_traffic.runner import run_sipp
from sip_traffic.scenarios import caller_scenario, keys


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    scenario = caller_scenario(
        caller=args.caller,
        keys_pressed=keys(args.keys, pause=args.gap, first_pause=args.pause) if args.keys else (),
        hangup_after=args.hold,
    )
    folder = Path(tempfile.mkdtemp(prefix="line1300-call-"))
    # Replayed pcaps repeat RTP sequence numbers; Asterisk would drop every key after the first.
    scenario = with_renumbered_keys(scenario, folder)
    print(f"Calling {args.did} from {args.caller} (keys {args.keys or 'none'}) …", flush=True)
    result = asyncio.run(
        run_sipp(
            scenario,
            name="call",
            remote=f"127.0.0.1:{settings.asterisk.sip_port}",
            service=args.did,
            calls=1,
            local_port=settings.asterisk.trunk_port,
            timeout=args.hold + 60,
            workdir=folder,
        )
    )
    print("call completed" if result.ok else f"call failed: {result.errors[:3]}", flush=True)
    return 0 if result.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sip_traffic", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    call = sub.add_parser("call", help="place one call on the carrier trunk")
    call.add_argument("did", help="1300 or +66991301300")
    call.add_argument("--caller", default="0812345678", help="caller number (default 0812345678)")
    call.add_argument("--keys", default="", help="menu keys to press, e.g. 2 or 32")
    call.add_argument("--pause", type=float, default=12.0, help="seconds before the first key")
    call.add_argument("--gap", type=float, default=8.0, help="seconds between keys")
    call.add_argument("--hold", type=float, default=60.0, help="hang up after this many seconds")
    return parser


if __name__ == "__main__":
    sys.exit(main())
