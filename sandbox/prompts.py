"""Copy the IVR prompts (recordings/prompts/<lang>/) into an instance's sounds folder.

Asterisk's format_wav plays only 8 kHz mono 16-bit PCM as ".wav"; anything else plays at the
wrong speed or not at all. A file in that format is copied as is, others are converted with
ffmpeg, so whoever records the prompts need not know Asterisk's rules.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

from settings import repo_root

PROMPTS_DIR = repo_root() / "recordings" / "prompts"
# Formats Asterisk reads natively by extension; copied untouched.
NATIVE_EXTENSIONS = frozenset({".sln", ".sln16", ".ulaw", ".alaw", ".gsm", ".g722", ".wav16"})


def install_prompts(dest: Path, source: Path = PROMPTS_DIR) -> dict[str, frozenset[str]]:
    """Copy ``source/<lang>/*`` to ``dest/<lang>/``; returns the prompt names per language.

    A missing ``source`` (prompts not produced yet) is not an error: nothing is installed.
    """
    installed: dict[str, frozenset[str]] = {}
    if not source.is_dir():
        return installed
    for lang_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        names = {_install_one(f, dest / lang_dir.name) for f in sorted(lang_dir.iterdir())}
        installed[lang_dir.name] = frozenset(n for n in names if n)
    return installed


def _install_one(src: Path, dest_dir: Path) -> str | None:
    suffix = src.suffix.lower()
    if not src.is_file() or (suffix != ".wav" and suffix not in NATIVE_EXTENSIONS):
        return None
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / (src.stem + suffix)
    if dest.exists() and dest.stat().st_mtime >= src.stat().st_mtime:
        return src.stem
    if suffix == ".wav" and not _asterisk_ready_wav(src) and _convert(src, dest):
        return src.stem
    shutil.copy2(src, dest)
    return src.stem


def _asterisk_ready_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getframerate() == 8000 and w.getnchannels() == 1 and w.getsampwidth() == 2
    except (wave.Error, EOFError, OSError):
        return False


def _convert(src: Path, dest: Path) -> bool:
    """8 kHz mono 16-bit with ffmpeg; False (and the caller copies as is) without ffmpeg."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return False
    tmp = dest.with_name(dest.stem + ".tmp.wav")
    result = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(src),
         "-ar", "8000", "-ac", "1", "-c:a", "pcm_s16le", str(tmp)],
        capture_output=True, check=False,
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        return False
    tmp.replace(dest)
    return True
