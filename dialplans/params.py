"""What one rendering of the Asterisk configuration needs to know: paths, ports and secrets.

Paths are as Asterisk sees them (inside the sandbox chroot they differ from the host's); the
instance code maps them. Nothing here reads settings: the caller decides, so tests can give
every instance its own ports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath


@dataclass(frozen=True)
class AsteriskFolders:
    """Asterisk's own folders when they are not subfolders of one instance root: a system
    install (Debian: /etc/asterisk, /var/lib/asterisk, /usr/share/asterisk, ...)."""

    etc: PurePosixPath
    lib: PurePosixPath
    data: PurePosixPath
    spool: PurePosixPath
    log: PurePosixPath
    run: PurePosixPath
    cache: PurePosixPath


@dataclass(frozen=True)
class RenderParams:
    instance_name: str
    # Instance root as Asterisk sees it; etc/, log/, spool/ ... live below it (unless
    # ``folders`` names them one by one).
    ast_dir: PurePosixPath
    module_dir: PurePosixPath
    system_data_dir: PurePosixPath
    moh_dir: PurePosixPath | None
    sip_port: int
    ami_port: int
    rtp_start: int
    rtp_end: int
    trunk_host: str
    trunk_port: int
    ami_username: str
    ami_secret: str
    agent_passwords: Mapping[str, str]
    wrapup_seconds: int
    service_level_seconds: int = 20
    bind_host: str = "127.0.0.1"
    # "host:port" every agent AOR points at (one SIPp UAS answering for all agents in tests);
    # None = agents register with their password (real phones).
    agent_contact: str | None = None
    # Second AMI user with system/command rights, for tests and tooling only.
    admin_username: str | None = None
    admin_secret: str | None = None
    entity_id: str = "02:13:00:00:00:01"
    # Prompt names available per language (without extension), e.g. {"th": {"welcome"}}.
    prompts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Asterisk's folders one by one (a system install); None = subfolders of ``ast_dir``.
    folders: AsteriskFolders | None = None
    # Address the SIP transport binds (trunk and agent phones reach it); None = ``bind_host``.
    # The manager interface always binds ``bind_host``.
    sip_bind_host: str | None = None
    # manager.conf disabledevents (settings [asterisk] ami_disabled_events).
    ami_disabled_events: tuple[str, ...] = ()
    # The centre's time zone (settings [general] timezone): the recordings' and messages' dated
    # folders follow the centre's day, not the Asterisk host's clock ("" = the host's).
    timezone: str = ""

    @property
    def etc_dir(self) -> PurePosixPath:
        return self.folders.etc if self.folders else self.ast_dir / "etc"

    @property
    def log_dir(self) -> PurePosixPath:
        return self.folders.log if self.folders else self.ast_dir / "log"

    @property
    def run_dir(self) -> PurePosixPath:
        return self.folders.run if self.folders else self.ast_dir / "run"

    @property
    def lib_dir(self) -> PurePosixPath:
        return self.folders.lib if self.folders else self.ast_dir / "lib"

    @property
    def spool_dir(self) -> PurePosixPath:
        return self.folders.spool if self.folders else self.ast_dir / "spool"

    @property
    def data_dir(self) -> PurePosixPath:
        return self.folders.data if self.folders else self.ast_dir / "data"

    @property
    def cache_dir(self) -> PurePosixPath:
        return self.folders.cache if self.folders else self.ast_dir / "cache"

    @property
    def recordings_dir(self) -> PurePosixPath:
        # MixMonitor writes relative file names (the queue's ${UNIQUEID}.wav) here.
        return self.spool_dir / "monitor"

    @property
    def sounds_dir(self) -> PurePosixPath:
        """Project prompts: Playback(line1300/<lang>/<name>) resolves here."""
        return self.data_dir / "sounds" / "line1300"

    @property
    def cdr_db(self) -> PurePosixPath:
        """SQLite file with table ``cdr`` (the backend appends ".db" to its section name)."""
        return self.log_dir / "cdr.db"

    @property
    def cel_db(self) -> PurePosixPath:
        """SQLite file with table ``cel``."""
        return self.log_dir / "cel.db"

    @property
    def queue_log(self) -> PurePosixPath:
        return self.log_dir / "queue_log"

    @property
    def agent_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.agent_passwords))
