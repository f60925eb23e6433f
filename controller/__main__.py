"""The run command: Asterisk (sandbox or system), the controller and its pages, until Ctrl-C.

python -m controller                 # start Asterisk from settings, then the controller
python -m controller --external-asterisk   # production: Asterisk is run by systemd
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import structlog
from aiohttp import web

from controller.logs import configure
from controller.loop_lag import freeze_after_start
from controller.wiring import build_app
from settings import Settings, SettingsError, load_settings

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    configure(settings.state_dir / "logs" / "controller.jsonl")
    asterisk = None if args.external_asterisk else _start_asterisk(settings)
    try:
        _print_banner(settings, asterisk)
        app = build_app(settings)
        # The process's own app only (tests build many): its long-lived objects out of the
        # garbage collector's walks once every room has started.
        freeze_after_start(app)
        web.run_app(
            app,
            host=settings.web.host,
            port=settings.web.port,
            print=None,
            shutdown_timeout=5.0,
        )
    finally:
        if asterisk is not None:
            print("Stopping Asterisk …", flush=True)
            asterisk.stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m controller", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--external-asterisk",
        action="store_true",
        help="do not start Asterisk; connect to the one at [ami] host/port (production)",
    )
    return parser


def _start_asterisk(settings: Settings):  # type: ignore[no-untyped-def]
    from sandbox.instance import AsteriskInstance
    from sandbox.provision import ensure_asterisk

    runtime = ensure_asterisk(settings.asterisk, progress=print)
    _refuse_vulnerable(runtime.version)
    instance = AsteriskInstance.from_settings(runtime, settings)
    if instance.is_running():
        print(f"Asterisk instance {instance.name!r} is already running; restarting it", flush=True)
        instance.stop()
    print(f"Starting Asterisk {runtime.version} ({runtime.mode}) …", flush=True)
    seconds = instance.start()
    print(f"Asterisk fully booted in {seconds:.1f} s", flush=True)
    return instance


def _refuse_vulnerable(version: str) -> None:
    """The controller's AMI user may Originate: on an Asterisk with CVE-2024-42365 that is
    enough to take the machine. Such an Asterisk is not started at all."""
    from sandbox.advisories import UnknownVersion, advisories_for, verdict

    try:
        vulnerable = bool(advisories_for(version))
    except UnknownVersion:
        print(f"warning: {verdict(version)}", file=sys.stderr, flush=True)
        return
    if vulnerable:
        raise SystemExit(f"cannot start: {verdict(version)}")


def _print_banner(settings: Settings, asterisk: object | None) -> None:
    base = f"http://{settings.web.host}:{settings.web.port}"
    sip = f"127.0.0.1:{settings.asterisk.sip_port}"
    print(
        "\n".join(
            [
                "",
                "The 1300 line server is running.",
                f"  Supervisor page : {base}/supervisor   (wallboard {base}/wallboard,"
                f" report {base}/reports/monthly)",
                f"  Agent page      : {base}/agent",
                f"  Sign-in         : user 'supervisor'; first-run passwords in"
                f" {settings.state_dir / 'initial-passwords.txt'}",
                f"  Agent phones    : PJSIP endpoints agent-001… register at {sip}; passwords in"
                f" {settings.state_dir / 'agent-passwords.json'}",
                "  Place a test call from the carrier side (SIPp as the trunk):",
                f"    sipp -sn uac -s 1300 -p {settings.asterisk.trunk_port} -m 1 {sip}",
                f"    sipp -sn uac -s +66991301300 -p {settings.asterisk.trunk_port} -m 1 {sip}",
                "  or: .venv/bin/python -m sip_traffic call 1300 --keys 2   (counselling, Thai)",
                "Press Ctrl-C to stop everything.",
                "",
            ]
        ),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
