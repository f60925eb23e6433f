"""The media files of expired recordings and callback messages: the archived copy and
Asterisk's original, and the archive's day folders the removal leaves empty."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from recordings.asterisk_paths import AsteriskPaths


class MediaItem(Protocol):
    @property
    def archive_path(self) -> str | None: ...

    @property
    def source_path(self) -> str | None: ...


class MediaFiles:
    def __init__(self, paths: AsteriskPaths, archive_dir: Path) -> None:
        self._paths = paths
        self._archive_dir = archive_dir

    def remove(self, items: Iterable[MediaItem]) -> int:
        """Delete the files of `items`; returns how many files were deleted."""
        removed = 0
        for item in items:
            for path in self._files(item):
                if path.is_file():
                    path.unlink()
                    removed += 1
                    self._prune_empty_days(path.parent)
        return removed

    def _files(self, item: MediaItem) -> list[Path]:
        files = []
        if item.archive_path:
            files.append(self._archive_dir / item.archive_path)
        if item.source_path:
            with contextlib.suppress(ValueError):  # a relative name was never a file of ours
                files.append(self._paths.host_path(item.source_path))
        return files

    def _prune_empty_days(self, folder: Path) -> None:
        """Remove day/month/year folders of the archive that the purge left empty."""
        root = self._archive_dir.resolve()
        folder = folder.resolve()
        while folder != root and root in folder.parents and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
