"""`python -m dialplans render DIR`: a system Asterisk's configuration, as operators run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from controller.ami_events import CONTROLLER_EVENTS
from dialplans.cli import MODULE_DIR_GLOBS, find_module_dir, module_dir_in_settings
from dialplans.render import EMPTY_FILES, STATIC_FILES
from sandbox.amiclient import AmiClientError, MiniAmi
from sandbox.instance import INFO_FILE, AsteriskInstance, _write_private
from sandbox.provision import AsteriskRuntime, prepare_network_files
from settings import Settings, repo_root

SECRET = "ami-secret-never-printed-7Qx"
MODULES = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
RENDERED = {*STATIC_FILES, *EMPTY_FILES, "pjsip.conf", "manager.conf", "queues.conf",
            "extensions.conf"}


def run_cli(
    state: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command exactly as the README shows it, from the repository root."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LINE1300_")}
    base |= {"LINE1300_GENERAL_STATE_DIR": str(state), "LINE1300_AMI_SECRET": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "dialplans", "render", *args], cwd=repo_root(),
        env=base | (env or {}), capture_output=True, text=True, timeout=120, check=False,
    )


def section(text: str, name: str) -> str:
    match = re.search(rf"^\[{re.escape(name)}\][^\n]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert match, f"no [{name}]"
    return match.group(1)


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("render-cli")
    result = run_cli(root / "state", str(root / "etc"), "--module-dir", MODULES,
                     "--sounds-dir", str(root / "sounds"))
    assert result.returncode == 0, result.stderr
    return root, result


def test_render_writes_every_file_and_lists_them(
    rendered: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, result = rendered
    etc = root / "etc"
    assert {p.name for p in etc.iterdir()} == RENDERED
    for name in RENDERED:
        assert str(etc / name) in result.stdout
    assert "restart Asterisk" in result.stdout and "records_dir" in result.stdout
    conf = (etc / "asterisk.conf").read_text()
    assert f"astetcdir => {etc}" in conf
    assert f"astmoddir => {MODULES}" in conf
    assert "astlogdir => /var/log/asterisk" in conf
    assert "astspooldir => /var/spool/asterisk" in conf
    assert "[/var/log/asterisk/cdr]" in (etc / "cdr_sqlite3_custom.conf").read_text()
    # The prompts the dialplan plays were installed where asked.
    assert (root / "sounds" / "th").is_dir() and any((root / "sounds" / "th").iterdir())
    assert "line1300/th/" in (etc / "extensions.conf").read_text()


def test_manager_conf_has_the_controller_user_with_event_filters_and_no_admin(
    rendered: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    manager = (rendered[0] / "etc" / "manager.conf").read_text()
    user = section(manager, "line1300")
    assert f"secret = {SECRET}" in user
    assert [line for line in user.splitlines() if line.startswith("eventfilter")] == [
        f.conf_line() for f in CONTROLLER_EVENTS
    ]
    assert "sandbox-admin" not in manager and "write = all" not in manager
    assert re.findall(r"^\[([^\]]+)\]", manager, re.M) == ["general", "line1300"]
    assert "bindaddr = 127.0.0.1" in manager


def test_agent_passwords_kept_in_a_private_file_and_never_printed(
    rendered: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, result = rendered
    passwords_file = root / "state" / "agent-passwords.json"
    assert stat.S_IMODE(passwords_file.stat().st_mode) == 0o600
    assert str(passwords_file) in result.stdout
    passwords = json.loads(passwords_file.read_text())
    assert passwords and all(name.startswith("agent-") for name in passwords)
    pjsip = (root / "etc" / "pjsip.conf").read_text()
    output = result.stdout + result.stderr
    for password in passwords.values():
        assert f"password = {password}" in pjsip
        assert password not in output
    assert SECRET not in output
    for conf in (root / "etc").iterdir():
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600  # secrets inside: owner only


def test_passwords_are_made_once_and_check_sees_no_drift(tmp_path: Path) -> None:
    args = (str(tmp_path / "etc"), "--module-dir", MODULES, "--sounds-dir", str(tmp_path / "s"))
    assert run_cli(tmp_path / "state", *args).returncode == 0
    first = (tmp_path / "state" / "agent-passwords.json").read_text()
    assert run_cli(tmp_path / "state", *args).returncode == 0
    assert (tmp_path / "state" / "agent-passwords.json").read_text() == first

    clean = run_cli(tmp_path / "state", *args, "--check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "matches" in clean.stdout

    (tmp_path / "etc" / "rtp.conf").write_text("[general]\n")
    (tmp_path / "etc" / "queues.conf").unlink()
    drift = run_cli(tmp_path / "state", *args, "--check")
    assert drift.returncode == 1
    assert f"differs   {tmp_path / 'etc' / 'rtp.conf'}" in drift.stdout
    assert f"missing   {tmp_path / 'etc' / 'queues.conf'}" in drift.stdout
    assert "pjsip.conf" not in drift.stdout and SECRET not in drift.stdout
    assert not (tmp_path / "etc" / "queues.conf").exists()  # --check writes nothing


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--log-dir", "relative/log"], "--log-dir"),
        (["--sip-bind", "not-an-address"], "--sip-bind"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_option_exits_2_naming_it(tmp_path: Path, option: list[str], named: str) -> None:
    result = run_cli(tmp_path / "state", str(tmp_path / "etc"), "--module-dir", MODULES, *option)
    assert result.returncode == 2
    assert named in result.stderr and "usage:" in result.stderr
    assert not (tmp_path / "etc").exists()


def test_module_dir_from_the_existing_asterisk_conf(tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "chan_pjsip.so").touch()
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "asterisk.conf").write_text(f"[directories](!)\nastmoddir => {modules}\n")
    assert find_module_dir(etc / "asterisk.conf", globs=()) == PurePosixPath(modules)
    result = run_cli(tmp_path / "state", str(etc), "--sounds-dir", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    assert f"astmoddir => {modules}" in (etc / "asterisk.conf").read_text()


def test_no_module_dir_found_names_the_option(tmp_path: Path) -> None:
    if shutil.which("asterisk") or any(any(Path("/").glob(g.lstrip("/")))
                                       for g in MODULE_DIR_GLOBS):
        pytest.skip("this machine has a system Asterisk: its modules folder would be found")
    result = run_cli(tmp_path / "state", str(tmp_path / "etc"))
    assert result.returncode == 2
    assert "--module-dir" in result.stderr and "modules folder" in result.stderr


# --- the rendered configuration on a real Asterisk -------------------------------------------


class CliRendered(AsteriskInstance):
    """A test instance (own folder, free ports) whose configuration is the CLI's, rendered
    with every folder pointed into the instance as an operator would with the options."""

    def prepare(self) -> None:
        for sub in ("etc", "log", "run", "lib", "cache", "spool/monitor", "spool/outgoing",
                    "spool/tmp", "data/sounds"):
            (self.host_dir / sub).mkdir(parents=True, exist_ok=True)
        _write_private(self.host_dir / INFO_FILE, self.config.to_json())  # reaped if we die
        self._link_system_data()
        if self.runtime.mode == "sandbox":
            prepare_network_files(self.runtime.root)
        a, p, c = self.ast_dir, self.ports, self.config.controller
        folders = [arg for sub in ("etc", "lib", "data", "spool", "log", "run", "cache")
                   for arg in (f"--{sub}-dir", str(a / sub))]
        env = {
            "LINE1300_AMI_PORT": str(p.ami), "LINE1300_AMI_USERNAME": c.username,
            "LINE1300_AMI_SECRET": c.secret, "LINE1300_ASTERISK_SIP_PORT": str(p.sip),
            "LINE1300_ASTERISK_TRUNK_PORT": str(p.trunk),
            "LINE1300_ASTERISK_RTP_START": str(p.rtp_start),
            "LINE1300_ASTERISK_RTP_END": str(p.rtp_end),
            "LINE1300_ASTERISK_AGENT_ENDPOINTS": "3",
        }
        result = run_cli(
            self.host_dir / "state", str(self.host_dir / "etc"), *folders,
            "--module-dir", str(self.runtime.module_dir), "--sounds-dir", str(self.sounds_dir),
            env=env,
        )
        assert result.returncode == 0, result.stderr


@pytest.fixture
def cli_asterisk(
    asterisk_runtime: AsteriskRuntime, asterisk_settings: Settings
) -> Iterator[AsteriskInstance]:
    instance = CliRendered.for_tests(asterisk_runtime, asterisk_settings, agent_count=3)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop(remove=os.environ.get("LINE1300_KEEP_INSTANCES") != "1")


@pytest.mark.asterisk
async def test_rendered_configuration_boots_and_the_controller_logs_in(
    cli_asterisk: AsteriskInstance,
) -> None:
    c = cli_asterisk.config.controller
    ami = await MiniAmi.connect("127.0.0.1", cli_asterisk.ports.ami, c.username, c.secret)
    try:
        assert (await ami.action("Ping")).get("Response") == "Success"
        queues = await ami.list_action("QueueStatus")
        assert {q["Queue"] for q in queues if q.get("Event") == "QueueParams"}
    finally:
        await ami.close()
    admin = cli_asterisk.config.admin  # the sandbox's admin user is not rendered for production
    with pytest.raises(AmiClientError):
        await MiniAmi.connect("127.0.0.1", cli_asterisk.ports.ami, admin.username, admin.secret)
    endpoints = cli_asterisk.rx("pjsip show endpoints")
    assert "agent-003" in endpoints and "trunk" in endpoints
    # What the module-folder search reads from a running Asterisk, and the folders as rendered.
    settings = cli_asterisk.rx("core show settings")
    assert module_dir_in_settings(settings) == str(cli_asterisk.runtime.module_dir)
    assert f"{cli_asterisk.ast_dir / 'log'}" in settings
