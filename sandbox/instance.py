"""One running Asterisk with the project's configuration: render, start, wait, stop.

An instance lives in its own folder (``host_dir`` here, ``ast_dir`` as Asterisk sees it;
inside the sandbox chroot that is /srv/line1300/<name>), with its own etc/, log/, spool/ and
control socket, so several instances run side by side. ``instance.json`` in that folder lets
another process (the CLI) find a running instance again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dialplans.params import RenderParams
from dialplans.render import DialplanRenderer, render_config
from settings import Settings

from .ports import InstancePorts, PortLease, lease_ports
from .process import die_with_parent
from .prompts import install_prompts
from .provision import AsteriskRuntime, SandboxError, prepare_network_files

ADMIN_USERNAME = "sandbox-admin"
INFO_FILE = "instance.json"
BOOT_TIMEOUT = 30.0


class AsteriskError(SandboxError):
    """Asterisk did not start, did not answer, or refused a command."""


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str


@dataclass(frozen=True)
class InstanceConfig:
    """Everything that makes one instance differ from another; saved as instance.json."""

    name: str
    ports: InstancePorts
    controller: Credentials
    admin: Credentials
    trunk_host: str
    agent_contact: str | None
    agent_passwords: dict[str, str]
    wrapup_seconds: int
    service_level_seconds: int

    def to_json(self) -> str:
        data = {
            "name": self.name,
            "ports": self.ports.as_dict(),
            "controller": self.controller.__dict__,
            "admin": self.admin.__dict__,
            "trunk_host": self.trunk_host,
            "agent_contact": self.agent_contact,
            "agent_passwords": self.agent_passwords,
            "wrapup_seconds": self.wrapup_seconds,
            "service_level_seconds": self.service_level_seconds,
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> InstanceConfig:
        d = json.loads(text)
        return cls(
            name=d["name"],
            ports=InstancePorts(**d["ports"]),
            controller=Credentials(**d["controller"]),
            admin=Credentials(**d["admin"]),
            trunk_host=d["trunk_host"],
            agent_contact=d["agent_contact"],
            agent_passwords=dict(d["agent_passwords"]),
            wrapup_seconds=int(d["wrapup_seconds"]),
            service_level_seconds=int(d["service_level_seconds"]),
        )


def agent_names(count: int) -> list[str]:
    return [f"agent-{i:03d}" for i in range(1, count + 1)]


def generate_passwords(names: list[str]) -> dict[str, str]:
    return {name: secrets.token_urlsafe(12) for name in names}


def instance_dirs(
    runtime: AsteriskRuntime, settings: Settings, name: str
) -> tuple[Path, PurePosixPath]:
    """(host path, path as Asterisk sees it) of instance ``name``'s folder."""
    if runtime.mode == "sandbox":
        ast_dir = runtime.instances_dir / name
        return runtime.host_path(ast_dir), ast_dir
    host = settings.runtime_dir / "asterisk" / name
    return host, PurePosixPath(host)


class AsteriskInstance:
    """Render, start, query and stop one Asterisk. Not thread-safe; one owner at a time."""

    def __init__(
        self, runtime: AsteriskRuntime, settings: Settings, config: InstanceConfig,
        lease: PortLease | None = None, dialplan: DialplanRenderer | None = None,
    ) -> None:
        """``dialplan`` renders extensions.conf: None = the IVR, or e.g.
        ``dialplans.minimal.minimal_extensions`` (every DID straight into the default queue)."""
        self.runtime = runtime
        self.dialplan = dialplan
        self.settings = settings
        self.config = config
        self.host_dir, self.ast_dir = instance_dirs(runtime, settings, config.name)
        self._lease = lease
        self._proc: subprocess.Popen[bytes] | None = None
        self.boot_seconds: float | None = None

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def for_tests(
        cls, runtime: AsteriskRuntime, settings: Settings, name: str | None = None,
        agent_count: int | None = None, dialplan: DialplanRenderer | None = None,
    ) -> AsteriskInstance:
        """An instance on free ports of its own, fresh secrets, and every agent phone
        pointing at one SIPp UAS on ``ports.agent_sip``."""
        lease = lease_ports()
        count = settings.asterisk.agent_endpoints if agent_count is None else agent_count
        config = InstanceConfig(
            name=name or f"test-{os.getpid()}-{uuid.uuid4().hex[:6]}",
            ports=lease.ports,
            controller=Credentials(settings.ami.username, secrets.token_urlsafe(18)),
            admin=_new_admin(),
            trunk_host="127.0.0.1",
            agent_contact=f"127.0.0.1:{lease.ports.agent_sip}",
            agent_passwords=generate_passwords(agent_names(count)),
            wrapup_seconds=settings.routing.wrapup_seconds,
            service_level_seconds=settings.service_level_seconds,
        )
        return cls(runtime, settings, config, lease, dialplan)

    @classmethod
    def from_settings(
        cls, runtime: AsteriskRuntime, settings: Settings, name: str = "default",
        dialplan: DialplanRenderer | None = None,
    ) -> AsteriskInstance:
        """The instance the server runs against: ports and AMI secret from settings, agent
        phones that register with the passwords in <state_dir>/agent-passwords.json."""
        a = settings.asterisk
        ports = InstancePorts(
            sip=a.sip_port, ami=settings.ami.port, rtp_start=a.rtp_start, rtp_end=a.rtp_end,
            agent_sip=0, trunk=a.trunk_port,
        )
        previous = cls._saved_config(runtime, settings, name)
        # The admin secret survives a restart of the CLI: tools already hold it.
        admin = previous.admin if previous else _new_admin()
        config = InstanceConfig(
            name=name,
            ports=ports,
            controller=Credentials(settings.ami.username, settings.ami.secret),
            admin=admin,
            trunk_host=a.trunk_host,
            agent_contact=None,
            agent_passwords=agent_passwords_file(settings, agent_names(a.agent_endpoints)),
            wrapup_seconds=settings.routing.wrapup_seconds,
            service_level_seconds=settings.service_level_seconds,
        )
        return cls(runtime, settings, config, dialplan=dialplan)

    @classmethod
    def attach(cls, runtime: AsteriskRuntime, settings: Settings, name: str) -> AsteriskInstance:
        """An instance another process rendered (to stop it, query it...)."""
        config = cls._saved_config(runtime, settings, name)
        if config is None:
            host, _ = instance_dirs(runtime, settings, name)
            raise AsteriskError(f"no instance {name!r} (no {host / INFO_FILE})")
        return cls(runtime, settings, config)

    @staticmethod
    def _saved_config(
        runtime: AsteriskRuntime, settings: Settings, name: str
    ) -> InstanceConfig | None:
        host, _ = instance_dirs(runtime, settings, name)
        try:
            return InstanceConfig.from_json((host / INFO_FILE).read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # --- paths (host side) ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def ports(self) -> InstancePorts:
        return self.config.ports

    @property
    def lease(self) -> PortLease | None:
        """The port slot of a test instance (for extra SIPp ports), None otherwise."""
        return self._lease

    @property
    def conf_file(self) -> PurePosixPath:
        return self.ast_dir / "etc" / "asterisk.conf"

    def host_path(self, ast_path: PurePosixPath) -> Path:
        return self.host_dir / ast_path.relative_to(self.ast_dir)

    @property
    def log_dir(self) -> Path:
        return self.host_dir / "log"

    @property
    def full_log(self) -> Path:
        return self.log_dir / "full"

    @property
    def console_log(self) -> Path:
        return self.log_dir / "console.log"

    @property
    def queue_log(self) -> Path:
        return self.log_dir / "queue_log"

    @property
    def cdr_db(self) -> Path:
        return self.log_dir / "cdr.db"

    @property
    def cel_db(self) -> Path:
        return self.log_dir / "cel.db"

    @property
    def spool_dir(self) -> Path:
        return self.host_dir / "spool"

    @property
    def outgoing_spool_dir(self) -> Path:
        return self.spool_dir / "outgoing"

    @property
    def recordings_dir(self) -> Path:
        return self.spool_dir / "monitor"

    @property
    def sounds_dir(self) -> Path:
        return self.host_dir / "data" / "sounds" / "line1300"

    @property
    def pid_file(self) -> Path:
        return self.host_dir / "run" / "asterisk.pid"

    # --- configuration --------------------------------------------------------------------

    def render_params(self, prompts: dict[str, frozenset[str]] | None = None) -> RenderParams:
        c = self.config
        return RenderParams(
            instance_name=c.name,
            ast_dir=self.ast_dir,
            module_dir=self.runtime.module_dir,
            system_data_dir=self.runtime.data_dir,
            moh_dir=self.runtime.moh_dir,
            sip_port=c.ports.sip,
            ami_port=c.ports.ami,
            rtp_start=c.ports.rtp_start,
            rtp_end=c.ports.rtp_end,
            trunk_host=c.trunk_host,
            trunk_port=c.ports.trunk,
            ami_username=c.controller.username,
            ami_secret=c.controller.secret,
            agent_passwords=c.agent_passwords,
            wrapup_seconds=c.wrapup_seconds,
            service_level_seconds=c.service_level_seconds,
            agent_contact=c.agent_contact,
            admin_username=c.admin.username,
            admin_secret=c.admin.secret,
            entity_id=_entity_id(c.name),
            prompts=prompts or {},
            ami_disabled_events=self.settings.asterisk.ami_disabled_events,
            timezone=self.settings.timezone.key,
        )

    def prepare(self) -> None:
        """Create the folders, link the sounds, install prompts, render the configuration."""
        ctl = self.ast_dir / "run" / "asterisk.ctl"
        if len(str(ctl)) > 107:  # sun_path limit: Asterisk could not create its CLI socket
            raise AsteriskError(f"instance folder path too long for a UNIX socket: {ctl}")
        for sub in ("etc", "log", "run", "lib", "cache", "spool/monitor", "spool/outgoing",
                    "spool/tmp", "data/sounds"):
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        _write_private(self.host_dir / INFO_FILE, self.config.to_json())
        self._link_system_data()
        prompts = self.install_prompts()
        render_config(self.host_dir / "etc", self.render_params(prompts), self.dialplan)
        if self.runtime.mode == "sandbox":
            prepare_network_files(self.runtime.root)  # the hostname may have changed

    def install_prompts(self) -> dict[str, frozenset[str]]:
        """(Re)copy recordings/prompts/ into sounds/line1300/; call ``rx('core reload')``
        only if the queue announcements should pick up new prompts."""
        return install_prompts(self.sounds_dir)

    def _link_system_data(self) -> None:
        """data/ mirrors Asterisk's data folder with links, plus our own sounds/line1300/."""
        system = self.runtime.host_path(self.runtime.data_dir)
        data = self.host_dir / "data"
        for entry in system.iterdir():
            if entry.name != "sounds":
                _symlink(data / entry.name, self.runtime.data_dir / entry.name)
        for entry in (system / "sounds").iterdir():
            _symlink(data / "sounds" / entry.name, self.runtime.data_dir / "sounds" / entry.name)

    # --- life cycle -----------------------------------------------------------------------

    def start(
        self, timeout: float = BOOT_TIMEOUT, *, die_with_owner: bool | None = None
    ) -> float:
        """Render, start and wait until fully booted; returns the boot time in seconds.

        A test instance (one with a port lease) dies with the thread that started it, so a
        killed test run leaves no Asterisk behind: start it from a long-lived thread (the
        main one). The CLI's instance outlives the CLI.
        """
        if die_with_owner is None:
            die_with_owner = self._lease is not None
        if self.is_running():
            raise AsteriskError(f"instance {self.name!r} is already running (pid {self.pid})")
        self._check_ports_free()
        self.prepare()
        self.pid_file.unlink(missing_ok=True)
        started = time.monotonic()
        with self.console_log.open("ab") as console:
            self._proc = subprocess.Popen(
                self.runtime.command("-f", "-n", "-C", str(self.conf_file)),
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the CLI; Ctrl-C in a test does not kill it
                # Log lines in the centre's time; CDR/CEL/queue_log use epoch seconds anyway.
                env={**os.environ, "TZ": self.settings.timezone.key},
                preexec_fn=die_with_parent if die_with_owner else None,
            )
        try:
            self.wait_fully_booted(timeout)
        except AsteriskError:
            self.stop()
            raise
        self.boot_seconds = time.monotonic() - started
        return self.boot_seconds

    def wait_fully_booted(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Until ``core waitfullybooted`` answers and the AMI greets a TCP client."""
        deadline = time.monotonic() + timeout
        while True:
            self._raise_if_exited()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AsteriskError(
                    f"Asterisk {self.name!r} not fully booted after {timeout:.0f} s\n"
                    f"{self.log_tail()}"
                )
            if self._ctl_socket().exists() and self._booted(min(remaining, 5.0)):
                return
            time.sleep(0.1)

    def _booted(self, timeout: float) -> bool:
        try:
            self.rx("core waitfullybooted", timeout=timeout)
        except AsteriskError:
            return False
        return self.ami_greets()

    def ami_greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.ports.ami), timeout=2.0) as sock:
                return sock.recv(64).startswith(b"Asterisk Call Manager")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0, remove: bool = False) -> None:
        """``core stop now``, then SIGTERM, then SIGKILL; releases the port slot."""
        pid = self.pid
        if pid is not None and self.is_running():
            # The connection drops as Asterisk exits; the wait below decides.
            with contextlib.suppress(AsteriskError):
                self.rx("core stop now", timeout=5.0)
            if not self._wait_exit(pid, timeout):
                self._signal(pid, signal.SIGTERM)
                if not self._wait_exit(pid, 3.0):
                    self._signal(pid, signal.SIGKILL)
                    self._wait_exit(pid, 3.0)
        self._proc = None
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        if remove:
            shutil.rmtree(self.host_dir, ignore_errors=True)

    def restart_now(self, timeout: float = BOOT_TIMEOUT) -> float:
        """``core restart now`` (the process re-executes itself, calls drop); returns the
        seconds until fully booted again."""
        started = time.monotonic()
        with contextlib.suppress(AsteriskError):  # the restart itself cuts the CLI connection
            self.rx("core restart now", timeout=5.0)
        self._wait_ctl_gone(5.0)
        self.wait_fully_booted(timeout)
        return time.monotonic() - started

    def rx(self, command: str, timeout: float = 10.0) -> str:
        """Run one CLI command (``asterisk -rx``) and return its output."""
        argv = self.runtime.command("-C", str(self.conf_file), "-rx", command)
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                    check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise AsteriskError(f"`{command}` got no answer in {timeout:.0f} s") from exc
        if result.returncode != 0:
            raise AsteriskError(
                f"`{command}` failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result.stdout

    # --- state ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        pid = self.pid
        return pid is not None and _is_asterisk(pid)

    def log_tail(self, lines: int = 30) -> str:
        chunks = []
        for path in (self.console_log, self.full_log):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            chunks.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(chunks)

    def _raise_if_exited(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise AsteriskError(
                f"Asterisk {self.name!r} exited with {self._proc.returncode} while starting\n"
                f"{self.log_tail()}"
            )

    def _ctl_socket(self) -> Path:
        return self.host_dir / "run" / "asterisk.ctl"

    def _wait_ctl_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._ctl_socket().exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _check_ports_free(self) -> None:
        from .ports import tcp_port_free, udp_port_free

        p = self.ports
        if not udp_port_free(p.sip):
            raise AsteriskError(f"UDP port {p.sip} (SIP) is in use: another Asterisk?")
        if not tcp_port_free(p.ami):
            raise AsteriskError(f"TCP port {p.ami} (AMI) is in use: another Asterisk?")

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None:
                if self._proc.poll() is not None:
                    return True
            elif not _is_asterisk(pid):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _signal(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def agent_passwords_file(settings: Settings, names: list[str]) -> dict[str, str]:
    """Agent phone passwords kept in <state_dir>/agent-passwords.json (mode 0600): made once,
    stable across restarts, new agents added as the endpoint count grows."""
    path = settings.state_dir / "agent-passwords.json"
    try:
        stored = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        stored = {}
    missing = [n for n in names if n not in stored]
    if missing:
        stored.update(generate_passwords(missing))
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return {n: stored[n] for n in names}


def reap_stale_instances(runtime: AsteriskRuntime, settings: Settings) -> list[str]:
    """Stop and remove test/bench instances whose owning process is gone (a crashed or killed
    run): their folders would pile up and their Asterisk keep a port slot's ports."""
    some_instance, _ = instance_dirs(runtime, settings, "any")
    folders = some_instance.parent.iterdir() if some_instance.parent.is_dir() else iter(())
    reaped = []
    for folder in sorted(folders):
        match = _OWNED_NAME.match(folder.name)
        if not match or _alive(int(match.group(1))):
            continue
        if (folder / INFO_FILE).exists():
            stale = AsteriskInstance.attach(runtime, settings, folder.name)
            if stale.is_running():
                stale.stop()
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder.name)
    return reaped


_OWNED_NAME = re.compile(r"^(?:test|bench)-(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_admin() -> Credentials:
    return Credentials(ADMIN_USERNAME, secrets.token_urlsafe(18))


def _entity_id(name: str) -> str:
    """A stable, locally administered MAC-style id per instance name."""
    digest = hashlib.sha256(name.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def _symlink(link: Path, target: PurePosixPath) -> None:
    if link.is_symlink() or link.exists():
        return
    link.symlink_to(target)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _is_asterisk(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"asterisk" in cmdline.split(b"\0", 1)[0]
