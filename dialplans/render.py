"""Render the whole Asterisk configuration of one instance from the repo's definitions.

Static text lives in dialplans/templates/; what depends on the routing definition (queues),
the agent roster size (PJSIP endpoints) or the instance (ports, secrets, paths) is generated
here. The dialplan itself comes from ``dialplans.extensions.render_extensions``, which the IVR
owns.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from agent_routing.skills import SkillQueue, routing
from call_log.facts import TRACKED_VARIABLES
from controller.ami_events import CONTROLLER_EVENTS, eventfilter_lines

from .extensions import queue_options
from .modules import load_lines
from .params import RenderParams
from .templating import fill

DialplanRenderer = Callable[[RenderParams], str]
# Files copied from templates/ with the common values filled in.
STATIC_FILES = (
    "asterisk.conf", "modules.conf", "logger.conf", "rtp.conf", "musiconhold.conf",
    "cdr.conf", "cdr_sqlite3_custom.conf", "cel.conf", "cel_sqlite3_custom.conf",
    "indications.conf", "features.conf", "queuerules.conf", "pjproject.conf",
)
# Modules we do not load still look for their file on "core reload" and complain; these stop
# the noise (and "enable = no" keeps dnsmgr from resolving anything).
EMPTY_FILES = {
    "dnsmgr.conf": "[general]\nenable = no\n",
    "ccss.conf": "[general]\n",
    "acl.conf": "",
    "udptl.conf": "[general]\n",
    "cli_permissions.conf": "",
    "sorcery.conf": "",
    "codecs.conf": "",
    "say.conf": "",
}
# Queue seconds ringing one agent before trying the next, and between tries.
MEMBER_RING_SECONDS = 15
RETRY_SECONDS = 1
PERIODIC_ANNOUNCE_SECONDS = 45


def render_config(
    target_dir: Path, params: RenderParams, dialplan: DialplanRenderer | None = None
) -> list[Path]:
    """Write every configuration file into ``target_dir`` (the instance's etc/, host path).

    ``dialplan`` renders extensions.conf; the default is the IVR
    (``dialplans.extensions.render_extensions``), ``dialplans.minimal.minimal_extensions``
    is the queue-only plan the sandbox tests use.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    values = common_values(params)
    files: dict[str, str] = {name: fill(name, values) for name in STATIC_FILES}
    files.update(EMPTY_FILES)
    files["pjsip.conf"] = fill("pjsip.conf", {**values, "agent_sections": agent_sections(params)})
    files["manager.conf"] = fill(
        "manager.conf",
        {
            **values,
            "admin_section": admin_section(params),
            "event_filters": event_filters(),
            "disabled_events": disabled_events(params.ami_disabled_events),
            "channel_variables": ",".join(sorted(TRACKED_VARIABLES)),
        },
    )
    files["queues.conf"] = render_queues(params, routing().queues)
    files["extensions.conf"] = (dialplan or _ivr_dialplan())(params)
    return [_write(target_dir / name, text) for name, text in sorted(files.items())]


def _ivr_dialplan() -> DialplanRenderer:
    # Imported on use: the IVR pulls in ivr/, which the minimal plan does not need.
    from .extensions import render_extensions

    return render_extensions


def common_values(params: RenderParams) -> dict[str, object]:
    return {
        "instance_name": params.instance_name,
        "cache_dir": params.cache_dir,
        "etc_dir": params.etc_dir,
        "module_dir": params.module_dir,
        "lib_dir": params.lib_dir,
        "data_dir": params.data_dir,
        "system_data_dir": params.system_data_dir,
        "spool_dir": params.spool_dir,
        "run_dir": params.run_dir,
        "log_dir": params.log_dir,
        "entity_id": params.entity_id,
        "load_lines": load_lines(),
        "bind_host": params.bind_host,
        "sip_bind_host": params.sip_bind_host or params.bind_host,
        "sip_port": params.sip_port,
        "ami_port": params.ami_port,
        "ami_username": params.ami_username,
        "ami_secret": params.ami_secret,
        "rtp_start": params.rtp_start,
        "rtp_end": params.rtp_end,
        "trunk_host": params.trunk_host,
        "trunk_port": params.trunk_port,
        "moh_dir": params.moh_dir or params.data_dir / "moh",
        # The SQLite backends name the file after the section and append ".db" themselves.
        "cdr_db": params.cdr_db.with_suffix(""),
        "cel_db": params.cel_db.with_suffix(""),
    }


def agent_sections(params: RenderParams) -> str:
    """One endpoint, auth and AOR per agent phone, from the templates in pjsip.conf."""
    blocks = []
    for name in params.agent_names:
        aor = [f"[{name}](agent-aor)"]
        if params.agent_contact:
            # Tests: a static contact (one SIPp UAS answers for every agent), no registration.
            aor.append(f"contact = sip:{name}@{params.agent_contact}")
        blocks.append(
            "\n".join([
                f"[{name}](agent-endpoint)",
                f"auth = {name}",
                f"aors = {name}",
                f'callerid = "{name}" <{name}>',
                "",
                f"[{name}](agent-auth)",
                f"username = {name}",
                f"password = {params.agent_passwords[name]}",
                "",
                *aor,
            ])
        )
    return "\n\n".join(blocks) + "\n"


def event_filters() -> str:
    return "\n".join(eventfilter_lines())


def disabled_events(names: tuple[str, ...]) -> str:
    """manager.conf's disabledevents line; refuses to disable an event the controller reads."""
    read = {f.name.lower() for f in CONTROLLER_EVENTS}
    blinding = sorted(n for n in names if n.lower() in read)
    if blinding:
        raise ValueError(
            f"ami_disabled_events: the controller reads {', '.join(blinding)}; "
            "remove them from settings [asterisk] ami_disabled_events"
        )
    if not names:
        return "; disabledevents: none (settings [asterisk] ami_disabled_events is empty)"
    return f"disabledevents = {','.join(names)}"


def admin_section(params: RenderParams) -> str:
    if not (params.admin_username and params.admin_secret):
        return ""
    return "\n".join([
        "",
        "; Sandbox only: tests and tooling (core restart, reloads, CLI). Never in production.",
        f"[{params.admin_username}]",
        f"secret = {params.admin_secret}",
        "deny = 0.0.0.0/0.0.0.0",
        "permit = 127.0.0.1/255.255.255.255",
        "read = all",
        "write = all",
        "writetimeout = 5000",
        "",
    ])


def render_queues(params: RenderParams, queues: Iterable[SkillQueue]) -> str:
    general = [
        "; Rendered by dialplans.render from config/routing.toml. Do not edit: re-render.",
        "; Members are not listed: the controller adds them over AMI from the roster, so the",
        "; roster is the one truth and nothing stale survives a restart.",
        "[general]",
        "persistentmembers = no",
        "autofill = yes",
        "monitor-type = MixMonitor",
        # A counsellor in several queues gets wrap-up after a call from any of them.
        "shared_lastcall = yes",
        "log_membername_as_agent = yes",
        "log-caller-id-name = yes",
        "",
    ]
    sections = [_queue_section(params, queue) for queue in queues]
    return "\n".join(general) + "\n" + "\n\n".join(sections) + "\n"


def _queue_section(params: RenderParams, queue: SkillQueue) -> str:
    options: dict[str, object] = {
        "strategy": "rrmemory",
        "musicclass": "default",
        "timeout": MEMBER_RING_SECONDS,
        "retry": RETRY_SECONDS,
        "timeoutrestart": "yes",
        "timeoutpriority": "conf",
        "wrapuptime": params.wrapup_seconds,
        "servicelevel": params.service_level_seconds,
        "ringinuse": "no",
        "autopause": "no",
        # The IVR checks for members on shift before queueing, and a caller already waiting
        # must never be thrown out because the last counsellor logged off.
        "joinempty": "yes",
        "leavewhenempty": "no",
        "reportholdtime": "no",
        "setinterfacevar": "yes",
        "setqueueentryvar": "yes",
        "setqueuevar": "yes",
        "memberdelay": 0,
        "announce-holdtime": "no",
        **_announcements(params.prompts.get(queue.language, frozenset()), queue.language),
        # Exit keys, emergency weight; the IVR's own announcements replace app_queue's.
        **queue_options(queue),
    }
    if queue.record:
        options["monitor-format"] = "wav"
    lines = [f"; {queue.description} ({queue.skill}, {queue.language})", f"[{queue.name}]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines)


def _announcements(available: frozenset[str], language: str) -> Mapping[str, object]:
    """Position and periodic announcements only where prompts in the language exist.

    Asterisk ships its queue prompts and digits in English only: announcing a position to a
    Thai caller would play English, so it stays off until recordings exist for the language.
    """
    prefix = f"line1300/{language}"
    options: dict[str, object] = {"announce-position": "no"}
    if {"queue-thereare", "queue-callswaiting", "queue-youarenext"} <= available:
        options.update({
            "announce-position": "yes",
            "announce-frequency": 60,
            "queue-thereare": f"{prefix}/queue-thereare",
            "queue-callswaiting": f"{prefix}/queue-callswaiting",
            "queue-youarenext": f"{prefix}/queue-youarenext",
        })
    if "queue-periodic" in available:
        options["periodic-announce"] = f"{prefix}/queue-periodic"
        options["periodic-announce-frequency"] = PERIODIC_ANNOUNCE_SECONDS
    return options


def _write(path: Path, text: str) -> Path:
    # Write then rename: a reload never reads half a file. Secrets inside: owner-only.
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
