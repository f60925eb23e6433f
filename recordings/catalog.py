"""The IVR prompt catalog (config/prompts.toml): ids, texts per language, files on disk.

Start-up calls `PromptCatalog.load(path).check_files(root)`: a crisis line must not go live with a
prompt that Asterisk would silently skip, so a missing or malformed file stops it with the
prompt id, the language and the path.
"""

from __future__ import annotations

import re
import tomllib
import wave
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = REPO_ROOT / "config" / "prompts.toml"
DEFAULT_ROOT = REPO_ROOT / "recordings" / "prompts"
NO_VOICE = "none"
SAMPLE_RATE = 8000
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class PromptError(Exception):
    """Base of the catalog's errors."""


class CatalogError(PromptError):
    """config/prompts.toml is malformed; the message names the file and the entry."""


class UnknownPromptError(PromptError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown prompt"


class MissingPromptError(PromptError):
    def __init__(self, prompt_id: str, lang: str, path: Path, more: int = 0) -> None:
        self.prompt_id, self.lang, self.path, self.more = prompt_id, lang, path, more
        extra = f" (and {more} more missing)" if more else ""
        super().__init__(f"prompt {prompt_id!r} [{lang}] is missing: {path}{extra}")


class InvalidPromptFileError(PromptError):
    def __init__(self, prompt_id: str, lang: str, path: Path, reason: str) -> None:
        self.prompt_id, self.lang, self.path = prompt_id, lang, path
        super().__init__(f"prompt {prompt_id!r} [{lang}] {path}: {reason}")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    voice: str
    speed: int = 150
    # Language whose voice renders this one's files when `voice` is "none".
    fallback: str | None = None
    reviewed: bool = False
    note: str = ""

    @property
    def has_voice(self) -> bool:
        return self.voice != NO_VOICE


@dataclass(frozen=True)
class Prompt:
    id: str
    texts: Mapping[str, str]
    use: str = ""
    aliases: tuple[str, ...] = ()
    fallback_texts: Mapping[str, str] = field(default_factory=dict)
    spoken_keys: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    @property
    def names(self) -> tuple[str, ...]:
        """The file names (without extension) this prompt is played under."""
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class PromptFile:
    prompt_id: str
    lang: str
    name: str
    relative: Path

    def path(self, root: Path) -> Path:
        return root / self.relative


@dataclass(frozen=True)
class PromptCatalog:
    languages: Mapping[str, Language]
    prompts: Mapping[str, Prompt]
    path: Path | None = None

    @classmethod
    def load(cls, path: Path = DEFAULT_CATALOG) -> PromptCatalog:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"prompt catalog {path}: {exc}") from exc
        return _parse(data, path)

    def prompt(self, name: str) -> Prompt:
        """A prompt by id or alias."""
        for prompt in self.prompts.values():
            if name in prompt.names:
                return prompt
        raise UnknownPromptError(f"no prompt {name!r} in the catalog")

    def text(self, name: str, lang: str) -> str:
        prompt = self.prompt(name)
        if lang not in prompt.texts:
            raise UnknownPromptError(f"prompt {prompt.id!r} has no {lang!r} text")
        return prompt.texts[lang]

    def files(self) -> Iterator[PromptFile]:
        for prompt in self.prompts.values():
            for lang in prompt.languages:
                for name in prompt.names:
                    yield PromptFile(prompt.id, lang, name, Path(lang) / f"{name}.wav")

    def file(self, name: str, lang: str) -> PromptFile:
        prompt = self.prompt(name)
        if lang not in prompt.texts:
            raise UnknownPromptError(f"prompt {prompt.id!r} has no {lang!r} version")
        return PromptFile(prompt.id, lang, name, Path(lang) / f"{name}.wav")

    def missing_files(self, root: Path = DEFAULT_ROOT) -> list[PromptFile]:
        return [f for f in self.files() if not f.path(root).is_file()]

    def check_files(self, root: Path = DEFAULT_ROOT) -> None:
        """Raise for the first missing or malformed prompt file; silent when all are fine."""
        missing = self.missing_files(root)
        if missing:
            first = missing[0]
            raise MissingPromptError(
                first.prompt_id, first.lang, first.path(root), more=len(missing) - 1
            )
        for f in self.files():
            _check_wav(f, f.path(root))

    def available(self, root: Path = DEFAULT_ROOT) -> dict[str, frozenset[str]]:
        """Names present on disk per language, e.g. for the dialplan's queue announcements."""
        out: dict[str, set[str]] = {}
        for f in self.files():
            if f.path(root).is_file():
                out.setdefault(f.lang, set()).add(f.name)
        return {lang: frozenset(names) for lang, names in out.items()}

    def synthesis_source(self, prompt_id: str, lang: str) -> tuple[Language, str]:
        """The voice and text that render `lang`: a voiceless language uses its fallback's."""
        prompt = self.prompt(prompt_id)
        language = self.languages[lang]
        if language.has_voice:
            return language, prompt.texts[lang]
        assert language.fallback is not None  # _parse guarantees it
        text = prompt.fallback_texts.get(lang) or prompt.texts[language.fallback]
        return self.languages[language.fallback], text


def _check_wav(f: PromptFile, path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as wav:
            params = wav.getparams()
    except (wave.Error, EOFError, OSError) as exc:
        raise InvalidPromptFileError(f.prompt_id, f.lang, path, f"not a WAV file ({exc})") from exc
    expected = (1, 2, SAMPLE_RATE)
    got = (params.nchannels, params.sampwidth, params.framerate)
    if got != expected or params.nframes == 0:
        raise InvalidPromptFileError(
            f.prompt_id, f.lang, path,
            f"{params.nchannels} ch, {8 * params.sampwidth}-bit, {params.framerate} Hz, "
            f"{params.nframes} frames; Asterisk needs mono 16-bit {SAMPLE_RATE} Hz",
        )


# --- parsing ---------------------------------------------------------------------------------

def _parse(data: Mapping[str, Any], path: Path) -> PromptCatalog:
    if data.get("version") != 1:
        raise CatalogError(f"{path}: unsupported version {data.get('version')!r} (expected 1)")
    raw_languages: Mapping[str, Any] = data.get("languages", {})
    languages = {code: _language(code, raw, path) for code, raw in raw_languages.items()}
    _check_fallbacks(languages, path)
    raw_prompts: Mapping[str, Any] = data.get("prompts", {})
    prompts = {pid: _prompt(pid, raw, languages, path) for pid, raw in raw_prompts.items()}
    _check_names(prompts, path)
    return PromptCatalog(languages, prompts, path)


def _language(code: str, raw: Mapping[str, Any], path: Path) -> Language:
    try:
        return Language(
            code, str(raw["name"]), str(raw["voice"]), int(raw.get("speed", 150)),
            raw.get("fallback"), bool(raw.get("reviewed", False)), str(raw.get("note", "")),
        )
    except KeyError as exc:
        raise CatalogError(f"{path}: [languages.{code}] needs {exc}") from exc


def _check_fallbacks(languages: Mapping[str, Language], path: Path) -> None:
    for lang in languages.values():
        if lang.has_voice:
            continue
        target = languages.get(lang.fallback or "")
        if target is None or not target.has_voice:
            raise CatalogError(
                f"{path}: [languages.{lang.code}] has voice = \"none\" and needs "
                "fallback = a language that has a voice"
            )


def _prompt(
    pid: str, raw: Mapping[str, Any], languages: Mapping[str, Language], path: Path
) -> Prompt:
    if not _ID.match(pid):
        raise CatalogError(f"{path}: prompt id {pid!r} must be lower-case words joined by '-'")
    only = tuple(raw.get("only", languages))
    texts = {lang: str(raw[lang]) for lang in languages if lang in raw}
    missing = [lang for lang in only if lang not in texts]
    if missing or set(only) - set(languages):
        raise CatalogError(f"{path}: [prompts.{pid}] needs text for {missing or only}")
    texts = {lang: texts[lang] for lang in only}
    return Prompt(
        pid, texts, str(raw.get("use", "")), tuple(raw.get("aliases", ())),
        dict(raw.get("fallback_text", {})), tuple(str(k) for k in raw.get("spoken_keys", ())),
    )


def _check_names(prompts: Mapping[str, Prompt], path: Path) -> None:
    seen: dict[str, str] = {}
    for prompt in prompts.values():
        for name in prompt.names:
            if not _ID.match(name):
                raise CatalogError(f"{path}: alias {name!r} of {prompt.id!r} is not a valid id")
            if name in seen:
                raise CatalogError(
                    f"{path}: name {name!r} used by both {seen[name]!r} and {prompt.id!r}"
                )
            seen[name] = prompt.id
