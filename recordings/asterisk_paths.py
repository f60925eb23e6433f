"""Asterisk's file names as this server opens them: the one place that maps the two.

Asterisk reports the files it writes (MixMonitor recordings, Record() messages) by its own path.
Inside the sandbox chroot "/srv/line1300/default/spool/..." is below the chroot on the host; a
system Asterisk (or one run by systemd elsewhere, with a shared folder) uses the same path.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from settings import Settings

DEFAULT_INSTANCE = "default"
SOUNDS_SUBDIR = PurePosixPath("data/sounds/line1300")


@dataclass(frozen=True)
class AsteriskPaths:
    """`root`: the folder Asterisk's "/" is on this host ("/" unless chrooted).
    `sounds_dir`: the running instance's project prompts folder, when this server can write it
    (None with an Asterisk run elsewhere: uploaded prompts wait for its next deployment)."""

    root: Path
    sounds_dir: Path | None

    def host_path(self, asterisk_path: str) -> Path:
        path = PurePosixPath(asterisk_path)
        if not path.is_absolute():
            raise ValueError(f"Asterisk reported a relative path: {asterisk_path!r}")
        return self.root / path.relative_to("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> AsteriskPaths:
        """The Asterisk `python -m controller` starts, decided as the sandbox decides it; with
        [asterisk] records_dir set, an Asterisk managed elsewhere whose "/" is [asterisk]
        root_dir here."""
        a = settings.asterisk
        if a.records_dir:
            return cls(Path(a.root_dir), None)
        if a.mode == "system" or (a.mode == "auto" and shutil.which("asterisk")):
            instance = settings.runtime_dir / "asterisk" / DEFAULT_INSTANCE
            return cls(Path("/"), instance / SOUNDS_SUBDIR)
        from sandbox.provision import CHROOT_INSTANCES  # only here: it pulls in rendering

        instance = a.sandbox_dir / CHROOT_INSTANCES.relative_to("/") / DEFAULT_INSTANCE
        return cls(a.sandbox_dir, instance / SOUNDS_SUBDIR)
