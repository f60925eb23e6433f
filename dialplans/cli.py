"""``python -m dialplans render DIR``: the project's Asterisk configuration for a system Asterisk.

    python -m dialplans render /etc/asterisk            # write it (then restart Asterisk)
    python -m dialplans render /etc/asterisk --check    # list files that differ, write nothing

Ports, trunk, RTP range, agent endpoints and the AMI user come from config/settings.toml
(LINE1300_* overrides; the AMI secret from LINE1300_AMI_SECRET or <state_dir>/secrets.toml).
Asterisk's folders are Debian's unless given; the modules folder is found from DIR's existing
asterisk.conf, a running Asterisk or the installed package layout. Agent phone passwords are
made once and kept in <state_dir>/agent-passwords.json (mode 0600); no secret is printed.
"""

from __future__ import annotations

import argparse
import filecmp
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from settings import Settings, SettingsError, load_settings

from .params import AsteriskFolders, RenderParams
from .render import render_config

# Debian's (and upstream's) folders, as in the asterisk.conf the distribution ships.
DEFAULT_FOLDERS = {
    "lib": "/var/lib/asterisk",
    "data": "/usr/share/asterisk",
    "spool": "/var/spool/asterisk",
    "log": "/var/log/asterisk",
    "run": "/var/run/asterisk",
    "cache": "/var/cache/asterisk",
}
# Where distributions install the modules (Debian multiarch first).
MODULE_DIR_GLOBS = ("/usr/lib/*/asterisk/modules", "/usr/lib/asterisk/modules",
                    "/usr/lib64/asterisk/modules")
# A folder is Asterisk's modules folder if it holds these.
MODULE_MARKERS = ("chan_pjsip.so", "app_queue.so")
INSTANCE_NAME = "line1300"


class UsageError(Exception):
    """A value the operator must give or correct; the message names the option."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _render(args)
    except UsageError as exc:
        args.subparser.error(str(exc))  # usage and message on stderr, exit 2
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}\n(render as a user who can write there, e.g. root, or into a "
              "folder you can write and copy the files)", file=sys.stderr)
        return 1
    return 0  # pragma: no cover - parser.error exits


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dialplans", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser(
        "render", help="write the configuration into DIR (e.g. /etc/asterisk)",
        description="Render the project's Asterisk configuration into DIR for a system "
        "Asterisk and install the IVR prompts. Settings (ports, trunk, AMI user) come from "
        "config/settings.toml and LINE1300_* variables.",
    )
    render.add_argument("dir", metavar="DIR", type=Path,
                        help="folder to write the .conf files into (e.g. /etc/asterisk)")
    render.add_argument("--check", action="store_true",
                        help="write nothing: list the files in DIR that differ from a fresh "
                        "rendering (and prompts missing); exit 1 if any")
    render.add_argument("--etc-dir", metavar="PATH",
                        help="astetcdir: where Asterisk will read these files (default: DIR; "
                        "give it when DIR is a staging copy)")
    render.add_argument("--module-dir", metavar="PATH",
                        help="astmoddir (default: from DIR/asterisk.conf, a running Asterisk or "
                        "the installed package: /usr/lib/x86_64-linux-gnu/asterisk/modules ...)")
    render.add_argument("--lib-dir", "--asterisk-dir", dest="lib_dir", metavar="PATH",
                        default=DEFAULT_FOLDERS["lib"],
                        help="astvarlibdir/astdbdir (default: %(default)s)")
    render.add_argument("--data-dir", metavar="PATH", default=DEFAULT_FOLDERS["data"],
                        help="astdatadir, where sounds/ is (default: %(default)s)")
    render.add_argument("--spool-dir", metavar="PATH", default=DEFAULT_FOLDERS["spool"],
                        help="astspooldir, recordings in monitor/ (default: %(default)s)")
    render.add_argument("--log-dir", metavar="PATH", default=DEFAULT_FOLDERS["log"],
                        help="astlogdir: CDR, CEL and queue_log (default: %(default)s)")
    render.add_argument("--run-dir", metavar="PATH", default=DEFAULT_FOLDERS["run"],
                        help="astrundir (default: %(default)s)")
    render.add_argument("--cache-dir", metavar="PATH", default=DEFAULT_FOLDERS["cache"],
                        help="astcachedir (default: %(default)s)")
    render.add_argument("--moh-dir", metavar="PATH",
                        help="music on hold files (default: DATA_DIR/moh or /var/lib/asterisk/moh, "
                        "whichever has files)")
    render.add_argument("--sounds-dir", metavar="PATH", type=Path,
                        help="where to install the IVR prompts (default: DATA_DIR/sounds/line1300, "
                        "which the dialplan plays; another folder is a staging copy)")
    render.set_defaults(subparser=render)
    render.add_argument("--sip-bind", metavar="ADDRESS", default="127.0.0.1",
                        help="address the SIP transport listens on; the trunk and agent phones "
                        "must reach it (default: %(default)s; the AMI stays on 127.0.0.1)")
    return parser


def _render(args: argparse.Namespace) -> int:
    settings = load_settings()
    target: Path = args.dir.absolute()
    folders = _folders(args, target)
    try:
        ipaddress.ip_address(args.sip_bind)
    except ValueError:
        raise UsageError(f"--sip-bind: {args.sip_bind!r} is not an IP address") from None
    module_dir = _absolute("--module-dir", args.module_dir) if args.module_dir else (
        find_module_dir(target / "asterisk.conf"))
    sounds_dir = (args.sounds_dir or Path(folders.data / "sounds" / INSTANCE_NAME)).absolute()
    passwords_file = settings.state_dir / "agent-passwords.json"
    if args.check:
        params = render_params(settings, folders, module_dir, args, prompt_names(), check=True)
        return _check(target, params, sounds_dir)

    from sandbox.prompts import install_prompts  # the sandbox's copier: same formats

    prompts = install_prompts(sounds_dir)
    params = render_params(settings, folders, module_dir, args, prompts)
    written = render_config(target, params)
    _give_to_folder_owner(target, written)
    print(f"Wrote the Asterisk configuration into {target} ({len(written)} files):")
    for path in written:
        print(f"  {path}")
    count = sum(len(names) for names in prompts.values())
    print(f"Installed {count} IVR prompts ({', '.join(sorted(prompts)) or 'none'}) into "
          f"{sounds_dir}")
    if sounds_dir != Path(params.sounds_dir):
        print(f"  (a staging copy: Asterisk plays them from {params.sounds_dir})")
    print(f"AMI user {params.ami_username} on 127.0.0.1:{params.ami_port}; its secret: "
          f"{_secret_source(settings)} (not shown)")
    print(f"Agent phone passwords ({len(params.agent_names)} endpoints, SIP on "
          f"{args.sip_bind}:{params.sip_port}): {passwords_file} (mode 0600, not shown)")
    print(f"Next: restart Asterisk (systemctl restart asterisk), and give the controller "
          f"Asterisk's records folder: [asterisk] records_dir = \"{params.log_dir}\" in "
          f"config/settings.toml (or LINE1300_ASTERISK_RECORDS_DIR={params.log_dir}).")
    return 0


def render_params(
    settings: Settings, folders: AsteriskFolders, module_dir: PurePosixPath,
    args: argparse.Namespace, prompts: dict[str, frozenset[str]], *, check: bool = False,
) -> RenderParams:
    """What the controller connects to (settings), with Asterisk's system folders."""
    from sandbox.instance import agent_names, agent_passwords_file

    a = settings.asterisk
    names = agent_names(a.agent_endpoints)
    if check:  # write nothing: missing passwords show as a differing pjsip.conf
        passwords = _stored_passwords(settings.state_dir / "agent-passwords.json", names)
    else:  # made once, kept in <state_dir>/agent-passwords.json (mode 0600), as the sandbox does
        passwords = agent_passwords_file(settings, names)
    moh = _absolute("--moh-dir", args.moh_dir) if args.moh_dir else _find_moh(folders.data)
    return RenderParams(
        instance_name=INSTANCE_NAME,
        ast_dir=folders.lib,
        folders=folders,
        module_dir=module_dir,
        system_data_dir=folders.data,
        moh_dir=moh,
        sip_port=a.sip_port,
        ami_port=settings.ami.port,
        rtp_start=a.rtp_start,
        rtp_end=a.rtp_end,
        trunk_host=a.trunk_host,
        trunk_port=a.trunk_port,
        ami_username=settings.ami.username,
        ami_secret=settings.ami.secret,
        agent_passwords=passwords,
        wrapup_seconds=settings.routing.wrapup_seconds,
        service_level_seconds=settings.service_level_seconds,
        sip_bind_host=args.sip_bind,
        prompts=prompts,
        ami_disabled_events=a.ami_disabled_events,
        timezone=settings.timezone.key,
    )


def find_module_dir(
    existing_conf: Path, globs: Sequence[str] = MODULE_DIR_GLOBS
) -> PurePosixPath:
    """Asterisk's modules folder: DIR's existing asterisk.conf (the distribution's, or ours from
    last time), a running Asterisk, or where the package installs them."""
    from sandbox.provision import conf_directories  # sandbox renders with dialplans: no cycle

    candidates = []
    configured = conf_directories(existing_conf).get("astmoddir")
    if configured:
        candidates.append(configured)
    candidates += _running_module_dir()
    for pattern in globs:
        candidates += sorted(str(p) for p in Path("/").glob(pattern.lstrip("/")))
    for candidate in candidates:
        if any((Path(candidate) / marker).is_file() for marker in MODULE_MARKERS):
            return PurePosixPath(candidate)
    looked = ", ".join(dict.fromkeys([*candidates, *globs]))
    raise UsageError(
        f"cannot find Asterisk's modules folder (no {' or '.join(MODULE_MARKERS)} in {looked}): "
        "install Asterisk, or give the folder with --module-dir PATH"
    )


def prompt_names(source: Path | None = None) -> dict[str, frozenset[str]]:
    """Prompt names per language that ``install_prompts`` would install, without copying."""
    return {lang: frozenset(Path(f).stem for f in files)
            for lang, files in _prompt_files(source).items()}


def _prompt_files(source: Path | None) -> dict[str, list[str]]:
    from sandbox.prompts import NATIVE_EXTENSIONS, PROMPTS_DIR

    source = source or PROMPTS_DIR
    found: dict[str, list[str]] = {}
    if not source.is_dir():
        return found
    for lang_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        found[lang_dir.name] = [
            f.name for f in sorted(lang_dir.iterdir())
            if f.is_file() and (f.suffix.lower() == ".wav" or f.suffix.lower() in NATIVE_EXTENSIONS)
        ]
    return found


def _check(target: Path, params: RenderParams, sounds_dir: Path) -> int:
    """Names only: the files hold secrets, so no diff is ever printed."""
    with tempfile.TemporaryDirectory(prefix="line1300-render-") as tmp:
        fresh = render_config(Path(tmp), params)
        drift = []
        for path in fresh:
            current = target / path.name
            if not current.is_file():
                drift.append(f"  missing   {current}")
            elif not filecmp.cmp(path, current, shallow=False):
                drift.append(f"  differs   {current}")
    missing = [f"{lang}/{name}" for lang, files in _prompt_files(None).items()
               for name in files if not (sounds_dir / lang / name).is_file()]
    if missing:
        drift.append(f"  missing   {len(missing)} IVR prompts in {sounds_dir} "
                     f"(e.g. {', '.join(missing[:3])})")
    if not drift:
        print(f"{target} matches the rendering ({len(fresh)} files); prompts in {sounds_dir}")
        return 0
    print(f"{target} differs from the rendering ({len(drift)}):")
    print("\n".join(drift))
    print(f"Re-render with: python -m dialplans render {target} (same options), then restart "
          "Asterisk")
    return 1


def _folders(args: argparse.Namespace, target: Path) -> AsteriskFolders:
    etc = _absolute("--etc-dir", args.etc_dir) if args.etc_dir else PurePosixPath(target)
    return AsteriskFolders(
        etc=etc,
        lib=_absolute("--lib-dir", args.lib_dir),
        data=_absolute("--data-dir", args.data_dir),
        spool=_absolute("--spool-dir", args.spool_dir),
        log=_absolute("--log-dir", args.log_dir),
        run=_absolute("--run-dir", args.run_dir),
        cache=_absolute("--cache-dir", args.cache_dir),
    )


def _absolute(option: str, value: str) -> PurePosixPath:
    path = PurePosixPath(value)
    if not path.is_absolute() or "\0" in value:
        raise UsageError(f"{option}: expected an absolute path, got {value!r}")
    return path


def _find_moh(data_dir: PurePosixPath) -> PurePosixPath:
    candidates = [data_dir / "moh", PurePosixPath(DEFAULT_FOLDERS["lib"]) / "moh"]
    for candidate in candidates:
        folder = Path(candidate)
        if folder.is_dir() and any(folder.iterdir()):
            return candidate
    return candidates[0]


def _running_module_dir() -> list[str]:
    """What a running system Asterisk reports (`asterisk -rx "core show settings"`)."""
    binary = shutil.which("asterisk")
    if not binary:
        return []
    try:
        result = subprocess.run([binary, "-rx", "core show settings"], capture_output=True,
                                text=True, timeout=5, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = module_dir_in_settings(result.stdout)
    return [found] if found else []


def module_dir_in_settings(text: str) -> str | None:
    """The "Module directory:" line of ``core show settings``."""
    match = re.search(r"^\s*Module directory:\s*(\S+)", text, re.M | re.I)
    return match.group(1) if match else None


def _stored_passwords(path: Path, names: list[str]) -> dict[str, str]:
    import json

    try:
        stored = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        stored = {}
    return {name: stored.get(name, "") for name in names}


def _secret_source(settings: Settings) -> str:
    if os.environ.get("LINE1300_AMI_SECRET"):
        return "LINE1300_AMI_SECRET"
    return str(settings.state_dir / "secrets.toml")


def _give_to_folder_owner(folder: Path, files: Sequence[Path]) -> None:
    """Run as root into an Asterisk-owned folder (Debian: /etc/asterisk is asterisk:asterisk),
    the files (mode 0600) must stay readable by Asterisk, which does not run as root."""
    if os.geteuid() != 0:
        return
    owner = folder.stat()
    if (owner.st_uid, owner.st_gid) == (0, 0):
        return
    for path in files:
        os.chown(path, owner.st_uid, owner.st_gid)
