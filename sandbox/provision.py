"""Find or build the Asterisk the project runs: a system install, or Debian sid's in a chroot.

The chroot is built once into ``<sandbox_dir>.partial`` and renamed into place, so an
interrupted build never leaves a half-made sandbox that looks finished; a stamp file records
the recipe and the installed Asterisk version, so a second run costs a file read. A lock file
makes concurrent test sessions (several engineers on one machine) wait for one build instead
of racing two debootstraps into the same folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from settings.loader import AsteriskSettings

Progress = Callable[[str], None]
Mode = Literal["system", "sandbox"]

# Bump when the chroot recipe changes: an old cache is then rebuilt instead of trusted.
RECIPE_VERSION = 2
SUITE = "sid"
MIRROR = os.environ.get("LINE1300_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = ("asterisk", "asterisk-core-sounds-en", "asterisk-moh-opsound-gsm")
STAMP_NAME = ".line1300-sandbox.json"
# Where instance folders live inside the chroot (as Asterisk sees them).
CHROOT_INSTANCES = PurePosixPath("/srv/line1300")
# apt inside the chroot must not trust the clock of a sid snapshot that may be a day old.
_APT_OPTS = ("-o", "Acquire::Check-Valid-Until=false", "-o", "Acquire::Retries=3")


class SandboxError(Exception):
    """Asterisk cannot be found or provisioned; the message says what to do."""


@dataclass(frozen=True)
class AsteriskRuntime:
    """Where an Asterisk binary lives and how to run it.

    ``root`` is "/" for a system install, else the chroot. Paths named ``*_dir`` are as Asterisk
    sees them; ``host_path`` turns one into a path this process can open.
    """

    mode: Mode
    root: Path
    binary: PurePosixPath
    module_dir: PurePosixPath
    data_dir: PurePosixPath
    moh_dir: PurePosixPath | None
    version: str

    @property
    def instances_dir(self) -> PurePosixPath:
        return CHROOT_INSTANCES

    def host_path(self, ast_path: PurePosixPath | str) -> Path:
        relative = PurePosixPath(ast_path).relative_to("/")
        return self.root / relative

    def command(self, *args: str) -> list[str]:
        """argv running the Asterisk binary (inside the chroot for a sandbox)."""
        if self.mode == "system":
            return [str(self.binary), *args]
        return ["chroot", str(self.root), str(self.binary), *args]


def ensure_asterisk(
    settings: AsteriskSettings, progress: Progress = print, *, force: bool = False
) -> AsteriskRuntime:
    """The Asterisk to use under ``settings.mode``; builds the sandbox if it is missing."""
    system = shutil.which("asterisk")
    if settings.mode == "system" or (settings.mode == "auto" and system):
        if not system:
            raise SandboxError(
                "[asterisk] mode = system but no `asterisk` is on PATH: install Debian's "
                "asterisk package, or set mode = sandbox"
            )
        return _system_runtime(Path(system))
    return provision_sandbox(settings.sandbox_dir, progress, force=force)


def provision_sandbox(
    target: Path, progress: Progress = print, *, force: bool = False
) -> AsteriskRuntime:
    """The cached chroot at ``target``, built first if absent, stale or ``force``d."""
    stamp = _read_stamp(target)
    if stamp and not force:
        return _sandbox_runtime(target, stamp)
    _require_root_and_tools()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target, progress) as lock_fd:
        stamp = _read_stamp(target)  # another session may have finished it while we waited
        if stamp is None or force:
            stamp = _build(target, _Builder(progress, lock_fd))
    return _sandbox_runtime(target, stamp)


def sandbox_status(target: Path) -> dict[str, str] | None:
    """The stamp of a finished sandbox (recipe, version, date), or None."""
    return _read_stamp(target)


# --- building -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Builder:
    progress: Progress
    # The build lock's fd, inherited by debootstrap and apt: if this process is killed, the
    # lock stays held until they exit too, so the next run never deletes a folder they write.
    lock_fd: int

    def run(self, argv: Sequence[str], label: str, env: dict[str, str] | None = None) -> None:
        _run_streamed(argv, label, self.progress, env, (self.lock_fd,))


def _build(target: Path, builder: _Builder) -> dict[str, str]:
    progress = builder.progress
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        progress(f"[sandbox] removing an interrupted build at {partial}")
        remove_tree(partial)
    started = time.monotonic()
    progress(f"[sandbox] building Debian {SUITE} + Asterisk in {partial} (first time: ~1 min)")
    builder.run(["debootstrap", "--variant=minbase", SUITE, str(partial), MIRROR], "debootstrap")
    _install_packages(partial, builder)
    version = _chroot_output(partial, ["dpkg-query", "-W", "-f=${Version}", "asterisk"])
    prepare_network_files(partial)
    (partial / CHROOT_INSTANCES.relative_to("/")).mkdir(parents=True, exist_ok=True)
    stamp = {
        "recipe": str(RECIPE_VERSION),
        "suite": SUITE,
        "packages": " ".join(PACKAGES),
        "asterisk_version": version,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (partial / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
    _swap_into_place(partial, target, progress)
    progress(f"[sandbox] Asterisk {version} ready in {target} ({time.monotonic() - started:.0f} s)")
    return stamp


def _install_packages(root: Path, builder: _Builder) -> None:
    # The chroot resolves the mirror with the host's resolver only while apt runs.
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    # Debian's maintainer scripts would try to start the asterisk service: policy-rc.d forbids it.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    builder.progress("[sandbox] apt-get update")
    builder.run(["chroot", str(root), "apt-get", *_APT_OPTS, "update"], "apt", env)
    builder.progress(f"[sandbox] apt-get install {' '.join(PACKAGES)}")
    install = ["apt-get", *_APT_OPTS, "install", "-y", "--no-install-recommends", *PACKAGES]
    builder.run(["chroot", str(root), *install], "apt", env)
    builder.run(["chroot", str(root), "apt-get", "clean"], "apt", env)


def _swap_into_place(partial: Path, target: Path, progress: Progress) -> None:
    if target.exists():
        stale = target.with_name(f"{target.name}.stale-{int(time.time())}")
        progress(f"[sandbox] replacing the old sandbox (kept at {stale} while in use)")
        target.rename(stale)
        if not _has_running_instances(stale):
            remove_tree(stale)
    partial.rename(target)


def _has_running_instances(root: Path) -> bool:
    for pidfile in (root / CHROOT_INSTANCES.relative_to("/")).glob("*/run/asterisk.pid"):
        try:
            os.kill(int(pidfile.read_text().strip()), 0)
        except (ValueError, OSError):
            continue
        return True
    return False


def prepare_network_files(root: Path) -> None:
    """Make every name look-up in the chroot answer at once, with or without a network.

    res_pjsip resolves this machine's hostname (IPv4 and IPv6) when it loads, and channel
    drivers that call ast_find_ourip() fall back to resolving A.ROOT-SERVERS.NET when the
    hostname does not resolve: with a DNS server that does not answer, each look-up stalls
    for the resolver timeout (measured: 20 s per start). The hostname (the
    chroot shares the host's) goes into /etc/hosts, and the only DNS server is 127.0.0.1,
    where nothing listens, so any remaining query is refused immediately.
    """
    hostname = socket.gethostname()
    names = " ".join(dict.fromkeys(["localhost", hostname, hostname.split(".")[0]]))
    # Both families: res_pjsip asks for the hostname's IPv4 and IPv6 address, and an IPv6
    # look-up missing from /etc/hosts goes to DNS (measured: 10 s stall per start).
    _replace_if_changed(
        root / "etc/hosts", f"127.0.0.1\t{names}\n::1\t{names} ip6-localhost ip6-loopback\n"
    )
    _replace_if_changed(
        root / "etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
    )


def _replace_if_changed(path: Path, text: str) -> None:
    """Atomically, and only when different: instances starting meanwhile read these files."""
    if not path.is_symlink() and path.is_file() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def _build_lock(target: Path, progress: Progress) -> Iterator[int]:
    lock_path = target.with_name(target.name + ".lock")
    with lock_path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"[sandbox] another process is building {target}; waiting for it")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield fh.fileno()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_tree(path: Path) -> None:
    """rmtree that first unmounts anything mounted below ``path`` (debootstrap mounts /proc)."""
    for mount_point in mounts_under(path):
        subprocess.run(["umount", "-l", mount_point], check=False)
    shutil.rmtree(path, ignore_errors=True)


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[1] for line in lines if len(line.split()) > 1]
    # Deepest first, so nested mounts come off before their parents.
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def _require_root_and_tools() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "building the Asterisk sandbox needs root (debootstrap and chroot): run the "
            "command with sudo, or install Debian's asterisk package and set "
            "[asterisk] mode = system"
        )
    if not shutil.which("debootstrap"):
        raise SandboxError("debootstrap is not installed: apt-get install debootstrap")


def _run_streamed(
    argv: Sequence[str], label: str, progress: Progress, env: dict[str, str] | None = None,
    keep_fds: Sequence[int] = (),
) -> None:
    """Run a long command, echoing at most one of its lines every few seconds as progress."""
    started = last_shown = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True, errors="replace", env=env, pass_fds=tuple(keep_fds),
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-19:], line.rstrip()]
            now = time.monotonic()
            if now - last_shown >= 3.0:
                progress(f"[sandbox]   {label} ({now - started:.0f} s): {line.strip()[:100]}")
                last_shown = now
    if proc.returncode != 0:
        details = "\n".join(tail)
        raise SandboxError(f"{label} failed (exit {proc.returncode}): {' '.join(argv)}\n{details}")


def _chroot_output(root: Path, argv: Sequence[str]) -> str:
    result = subprocess.run(
        ["chroot", str(root), *argv], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed in {root}: {result.stderr.strip()}")
    return result.stdout.strip()


# --- describing a runtime ---------------------------------------------------------------------


def _read_stamp(target: Path) -> dict[str, str] | None:
    try:
        stamp = json.loads((target / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("recipe") != str(RECIPE_VERSION):
        return None
    return {str(k): str(v) for k, v in stamp.items()}


def _sandbox_runtime(root: Path, stamp: dict[str, str]) -> AsteriskRuntime:
    moddirs = sorted(root.glob("usr/lib/*/asterisk/modules")) + sorted(
        root.glob("usr/lib/asterisk/modules")
    )
    if not moddirs:
        raise SandboxError(
            f"no Asterisk modules folder in {root}: "
            "rebuild with `python -m sandbox provision --force`"
        )
    data_dir = PurePosixPath("/usr/share/asterisk")
    return AsteriskRuntime(
        mode="sandbox",
        root=root,
        binary=PurePosixPath("/usr/sbin/asterisk"),
        module_dir=PurePosixPath("/") / moddirs[0].relative_to(root),
        data_dir=data_dir,
        moh_dir=_find_moh(root),
        version=stamp.get("asterisk_version", "unknown"),
    )


def _system_runtime(binary: Path) -> AsteriskRuntime:
    dirs = conf_directories(Path("/etc/asterisk/asterisk.conf"))
    module_dir = dirs.get("astmoddir") or _first_existing(
        ["/usr/lib/x86_64-linux-gnu/asterisk/modules", "/usr/lib/asterisk/modules",
         "/usr/lib64/asterisk/modules"]
    )
    data_dir = dirs.get("astdatadir") or _first_existing(
        ["/usr/share/asterisk", "/var/lib/asterisk"]
    )
    version = subprocess.run(
        [str(binary), "-V"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return AsteriskRuntime(
        mode="system",
        root=Path("/"),
        binary=PurePosixPath(binary.resolve()),
        module_dir=PurePosixPath(module_dir),
        data_dir=PurePosixPath(data_dir),
        moh_dir=_find_moh(Path("/")),
        version=version.removeprefix("Asterisk "),
    )


def conf_directories(conf: Path) -> dict[str, str]:
    """[directories] of an asterisk.conf (``key => value``): a system Asterisk's module and
    sound folders differ by distribution."""
    found: dict[str, str] = {}
    in_section = False
    try:
        lines = conf.read_text(errors="replace").splitlines()
    except OSError:
        return found
    for raw in lines:
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            in_section = line.startswith("[directories]")
        elif in_section and "=>" in line:
            key, value = (part.strip() for part in line.split("=>", 1))
            found[key] = value
    return found


def _first_existing(candidates: Sequence[str]) -> str:
    for candidate in candidates:
        if Path(candidate).is_dir():
            return candidate
    return candidates[0]


def _find_moh(root: Path) -> PurePosixPath | None:
    """The music-on-hold folder that has files (Debian's moh packages fill one of these)."""
    for candidate in ("usr/share/asterisk/moh", "var/lib/asterisk/moh"):
        folder = root / candidate
        if folder.is_dir() and any(folder.iterdir()):
            return PurePosixPath("/") / candidate
    return None
