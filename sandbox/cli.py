"""``python -m sandbox``: provision Asterisk, start/stop/query an instance.

    python -m sandbox provision [--force]
    python -m sandbox start [--name N]
    python -m sandbox stop [--name N]
    python -m sandbox status [--name N]
    python -m sandbox rx "core show channels" [--name N]

``start`` uses the ports and AMI secret of config/settings.toml (the server connects to it);
tests make their own instances on free ports instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dialplans.minimal import minimal_extensions
from settings import Settings, SettingsError, load_settings

from .instance import AsteriskError, AsteriskInstance
from .provision import AsteriskRuntime, SandboxError, ensure_asterisk, sandbox_status


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(_COMMANDS[args.command](settings, args))
    except (SandboxError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prov = sub.add_parser("provision", help="find or build Asterisk (sandbox chroot)")
    prov.add_argument("--force", action="store_true", help="rebuild the sandbox chroot")
    for name, text in (("start", "render the configuration and start Asterisk"),
                       ("stop", "stop a running instance"),
                       ("status", "show Asterisk and instance state")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--name", default="default", help="instance name (default: default)")
    start = sub.choices["start"]
    start.add_argument(
        "--dialplan", choices=("ivr", "minimal"), default="ivr",
        help="extensions.conf: the IVR (default) or every DID straight into the default queue",
    )
    rx = sub.add_parser("rx", help="run one Asterisk CLI command")
    rx.add_argument("cli_command", help='e.g. "core show channels"')
    rx.add_argument("--name", default="default")
    return parser


def _runtime(settings: Settings) -> AsteriskRuntime:
    return ensure_asterisk(settings.asterisk, progress=print)


def _provision(settings: Settings, args: argparse.Namespace) -> int:
    runtime = ensure_asterisk(settings.asterisk, progress=print, force=args.force)
    print(f"Asterisk {runtime.version} ({runtime.mode}, root {runtime.root})")
    return 0


def _start(settings: Settings, args: argparse.Namespace) -> int:
    dialplan = minimal_extensions if args.dialplan == "minimal" else None
    instance = AsteriskInstance.from_settings(_runtime(settings), settings, args.name, dialplan)
    if instance.is_running():
        print(f"instance {args.name!r} is already running (pid {instance.pid})")
        return 0
    seconds = instance.start()
    print(f"Asterisk instance {args.name!r} fully booted in {seconds:.1f} s (pid {instance.pid})")
    _describe(instance)
    return 0


def _stop(settings: Settings, args: argparse.Namespace) -> int:
    instance = AsteriskInstance.attach(_runtime(settings), settings, args.name)
    if not instance.is_running():
        print(f"instance {args.name!r} is not running")
        return 0
    instance.stop()
    print(f"instance {args.name!r} stopped")
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    runtime = _runtime(settings)
    print(f"Asterisk {runtime.version} ({runtime.mode}, root {runtime.root})")
    if runtime.mode == "sandbox":
        stamp = sandbox_status(runtime.root) or {}
        print(f"sandbox built {stamp.get('built_at', '?')} from Debian {stamp.get('suite', '?')}")
    try:
        instance = AsteriskInstance.attach(runtime, settings, args.name)
    except AsteriskError:
        print(f"instance {args.name!r}: never started")
        return 0
    state = f"running, pid {instance.pid}" if instance.is_running() else "stopped"
    print(f"instance {args.name!r}: {state}")
    _describe(instance)
    if instance.is_running():
        print(instance.rx("core show uptime").rstrip())
    return 0


def _rx(settings: Settings, args: argparse.Namespace) -> int:
    instance = AsteriskInstance.attach(_runtime(settings), settings, args.name)
    if not instance.is_running():
        print(f"error: instance {args.name!r} is not running", file=sys.stderr)
        return 1
    print(instance.rx(args.cli_command), end="")
    return 0


def _describe(instance: AsteriskInstance) -> None:
    p = instance.ports
    print(f"  SIP (trunk, agents) udp 127.0.0.1:{p.sip}   AMI tcp 127.0.0.1:{p.ami}"
          f"   RTP {p.rtp_start}-{p.rtp_end}")
    print(f"  folder   {instance.host_dir}")
    print(f"  full log {instance.full_log}")
    print(f"  queue_log {instance.queue_log}   CDR {instance.cdr_db}   CEL {instance.cel_db}")
    print(f"  recordings {instance.recordings_dir}")
    if instance.config.agent_contact is None:
        print(f"  agent phone passwords {instance.settings.state_dir / 'agent-passwords.json'}")


_COMMANDS = {
    "provision": _provision,
    "start": _start,
    "stop": _stop,
    "status": _status,
    "rx": _rx,
}
