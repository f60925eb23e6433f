"""Prompt files from the catalog's texts (espeak-ng), and operator recordings in their place.

espeak-ng renderings are placeholders until a person records the prompt. The manifest
(recordings/prompts/manifest.json) remembers which files are real recordings, so regenerating
never overwrites them, and which text each synthetic file was made from, so only changed
texts are rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import structlog
from pydub import AudioSegment

from .catalog import DEFAULT_ROOT, Language, PromptCatalog, PromptError, PromptFile
from .convert import DEFAULT_OPTIONS, ConvertOptions, ConvertResult, convert_file, convert_segment
from .convert import load_audio as _load_audio

log = structlog.get_logger(__name__)

MANIFEST = "manifest.json"
SOURCE_SYNTH = "espeak-ng"
SOURCE_RECORDING = "recording"
# Bump when the rendering chain changes, so every synthetic file is made again.
PIPELINE_VERSION = "1"
_ESPEAK_TIMEOUT_S = 60
_SPLIT_PAUSE_MS = 150
_OTHER_LANGUAGE = re.compile(r"\((\S+) \d+\)")


class SynthesisError(PromptError):
    """espeak-ng is missing, lacks a voice, or failed on a text."""


@dataclass(frozen=True)
class SynthesisReport:
    written: tuple[str, ...]
    unchanged: int
    kept_recordings: tuple[str, ...]


@cache
def espeak_voices() -> frozenset[str]:
    """Names `espeak-ng -v` accepts: each voice's language code, its file's name ("en" is the
    file of en-gb) and the other languages it declares ("(en 2)")."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthesisError("espeak-ng is not installed (Debian package 'espeak-ng')")
    out = subprocess.run([exe, "--voices"], capture_output=True, text=True, check=True).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            names |= {cols[1], cols[4].rsplit("/", 1)[-1]}
            names |= set(_OTHER_LANGUAGE.findall(line))
    return frozenset(names)


def has_voice(voice: str) -> bool:
    # "th+f2" is the Thai voice with the f2 variant: the language part must exist.
    return voice.split("+", 1)[0] in espeak_voices()


def espeak(text: str, language: Language, dst: Path) -> Path:
    """Render `text` with the language's espeak-ng voice to `dst` (22 kHz WAV)."""
    if not has_voice(language.voice):
        raise SynthesisError(f"espeak-ng has no voice {language.voice!r} ({language.code})")
    cmd = ["espeak-ng", "-v", language.voice, "-s", str(language.speed), "-w", str(dst), "--stdin"]
    proc = subprocess.run(
        cmd, input=text, capture_output=True, text=True, timeout=_ESPEAK_TIMEOUT_S, check=False
    )
    if proc.returncode != 0 or not dst.is_file():
        raise SynthesisError(f"espeak-ng failed for {language.code}: {proc.stderr.strip()}")
    return dst


def fingerprint(language: Language, text: str) -> str:
    raw = f"{PIPELINE_VERSION}|{language.voice}|{language.speed}|{text}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- manifest --------------------------------------------------------------------------------

def load_manifest(root: Path) -> dict[str, dict[str, Any]]:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save_manifest(root: Path, manifest: Mapping[str, Mapping[str, Any]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (MANIFEST + ".part")
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(root / MANIFEST)


def _key(prompt_id: str, lang: str) -> str:
    return f"{lang}/{prompt_id}"


# --- rendering -------------------------------------------------------------------------------

def _copy_aliases(catalog: PromptCatalog, prompt_id: str, lang: str, root: Path) -> None:
    main = catalog.file(prompt_id, lang).path(root)
    for alias in catalog.prompt(prompt_id).aliases:
        shutil.copyfile(main, catalog.file(alias, lang).path(root))


def speak(text: str, language: Language, options: ConvertOptions = DEFAULT_OPTIONS) -> AudioSegment:
    """`text` spoken by the language's voice, decoded at the options' sample rate.

    espeak-ng 1.51 aborts ("buffer overflow") on some long Burmese clauses; a text that fails
    is split at the space nearest its middle and the halves are joined with a short pause.
    """
    if not has_voice(language.voice):  # no use splitting a text no voice can say
        raise SynthesisError(f"espeak-ng has no voice {language.voice!r} ({language.code})")
    try:
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            return _load_audio(espeak(text, language, Path(tmp) / "speech.wav"), options)
    except SynthesisError:
        halves = _split_middle(text)
        if halves is None:
            raise
        log.warning("prompts.espeak_split", lang=language.code, chars=len(text))
        pause = AudioSegment.silent(duration=_SPLIT_PAUSE_MS, frame_rate=options.sample_rate)
        left, right = (speak(half, language, options) for half in halves)
        return left + pause + right


def _split_middle(text: str) -> tuple[str, str] | None:
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return None
    cut = min(spaces, key=lambda i: abs(i - len(text) // 2))
    return text[:cut].strip(), text[cut:].strip()


def synthesize_prompt(
    catalog: PromptCatalog,
    prompt_id: str,
    lang: str,
    root: Path = DEFAULT_ROOT,
    options: ConvertOptions = DEFAULT_OPTIONS,
) -> str:
    """Render one prompt in one language (and its aliases); returns its fingerprint."""
    language, text = catalog.synthesis_source(prompt_id, lang)
    dst = catalog.file(prompt_id, lang).path(root)
    convert_segment(speak(text, language, options), dst, options)
    _copy_aliases(catalog, prompt_id, lang, root)
    return fingerprint(language, text)


def _todo(
    catalog: PromptCatalog, root: Path, manifest: Mapping[str, Mapping[str, Any]], force: bool
) -> tuple[list[PromptFile], list[str], int]:
    """(files to render, recordings kept, unchanged count)."""
    todo: list[PromptFile] = []
    kept: list[str] = []
    unchanged = 0
    for f in catalog.files():
        if f.name != f.prompt_id:
            continue  # aliases are copies of their prompt's file
        entry = manifest.get(_key(f.prompt_id, f.lang), {})
        names = catalog.prompt(f.prompt_id).names
        present = all(catalog.file(n, f.lang).path(root).is_file() for n in names)
        if entry.get("source") == SOURCE_RECORDING and present and not force:
            kept.append(_key(f.prompt_id, f.lang))
        elif present and not force and entry.get("fingerprint") == fingerprint(
            *catalog.synthesis_source(f.prompt_id, f.lang)
        ):
            unchanged += 1
        else:
            todo.append(f)
    return todo, kept, unchanged


def synthesize_all(
    catalog: PromptCatalog,
    root: Path = DEFAULT_ROOT,
    *,
    force: bool = False,
    options: ConvertOptions = DEFAULT_OPTIONS,
    workers: int | None = None,
) -> SynthesisReport:
    """Render every prompt whose text changed or whose file is missing.

    Real recordings (see `replace_prompt`) are kept unless `force`; `force` also re-renders
    unchanged texts.
    """
    manifest = load_manifest(root)
    todo, kept, unchanged = _todo(catalog, root, manifest, force)

    def render(f: PromptFile) -> tuple[str, str]:
        made = synthesize_prompt(catalog, f.prompt_id, f.lang, root, options)
        return _key(f.prompt_id, f.lang), made

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for key, print_ in pool.map(render, todo):
            manifest[key] = {"source": SOURCE_SYNTH, "fingerprint": print_}
    save_manifest(root, manifest)
    written = tuple(_key(f.prompt_id, f.lang) for f in todo)
    log.info("prompts.synthesized", written=len(written), unchanged=unchanged, kept=len(kept))
    return SynthesisReport(written, unchanged, tuple(kept))


def replace_prompt(
    catalog: PromptCatalog,
    name: str,
    lang: str,
    src: Path,
    root: Path = DEFAULT_ROOT,
    options: ConvertOptions = DEFAULT_OPTIONS,
) -> ConvertResult:
    """Put an operator's recording in place of a prompt: converted, normalised, trimmed.

    Raises NotAudioError / AudioTooLargeError (recordings.convert) for a bad upload, before
    anything on disk changes, and UnknownPromptError for an id or language not in the catalog.
    """
    target = catalog.file(catalog.prompt(name).id, lang)  # an alias names the same recording
    result = convert_file(src, target.path(root), options)
    _copy_aliases(catalog, target.prompt_id, lang, root)
    manifest = load_manifest(root)
    manifest[_key(target.prompt_id, lang)] = {
        "source": SOURCE_RECORDING,
        "from": src.name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save_manifest(root, manifest)
    log.info("prompts.replaced", prompt=target.prompt_id, lang=lang, src=str(src))
    return result
