"""Supervisors replace an IVR prompt from the page: an uploaded recording becomes the prompt in
one language, and the running Asterisk plays it from the next call on.

The conversion is the media pipeline's (`recordings.synth.replace_prompt`: checked with ffprobe
before decoding, 8 kHz, trimmed, normalised). The new file is then copied into the running
instance's sounds folder, which Playback() reads at every play; with an Asterisk this server
cannot write to, the prompt takes effect when that Asterisk's prompts are next installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from recordings.catalog import PromptCatalog
from recordings.synth import SOURCE_RECORDING, load_manifest, replace_prompt
from sandbox.prompts import install_prompts
from storage import Database, audit

log = structlog.get_logger(__name__)


class TakesEffect(StrEnum):
    NOW = "now"
    AFTER_RESTART = "after_restart"


@dataclass(frozen=True)
class PromptReplaced:
    prompt_id: str
    lang: str
    duration_seconds: float
    takes_effect: TakesEffect

    def as_json(self) -> dict[str, Any]:
        return {"prompt_id": self.prompt_id, "lang": self.lang,
                "duration_seconds": round(self.duration_seconds, 2),
                "takes_effect": self.takes_effect.value}


class ReplacePromptUpload:
    """Raises recordings.catalog.UnknownPromptError for an id or language not in the catalog,
    and recordings.convert.AudioError (NotAudioError, AudioTooLargeError) for a bad file —
    both before anything on disk changes."""

    def __init__(
        self, db: Database, catalog: Callable[[], PromptCatalog], prompts_root: Path,
        sounds_dir: Path | None,
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._root = prompts_root
        self._sounds_dir = sounds_dir

    async def execute(self, actor: str, prompt_id: str, lang: str, upload: Path) -> PromptReplaced:
        catalog = self._catalog()
        target = catalog.file(prompt_id, lang)  # unknown id or language: refused undecoded
        result = await asyncio.to_thread(
            replace_prompt, catalog, target.prompt_id, lang, upload, self._root
        )
        effect = await asyncio.to_thread(self._install)
        replaced = PromptReplaced(target.prompt_id, lang, result.duration_s, effect)
        async with self._db.session() as session:
            await audit.record(session, actor, "prompt_replaced", "prompt",
                               f"{lang}/{target.prompt_id}", after=replaced.as_json())
        log.info("prompts.uploaded", prompt=target.prompt_id, lang=lang,
                 seconds=round(result.duration_s, 2), takes_effect=effect.value)
        return replaced

    def _install(self) -> TakesEffect:
        # The instance's data/sounds exists once it was prepared; no folder, no running Asterisk
        # of ours: its next start installs the prompts (AsteriskInstance.prepare).
        if self._sounds_dir is None or not self._sounds_dir.parent.is_dir():
            return TakesEffect.AFTER_RESTART
        install_prompts(self._sounds_dir, self._root)
        return TakesEffect.NOW


class ListPrompts:
    """The catalog for the upload form: ids, languages, and which are real recordings."""

    def __init__(self, catalog: Callable[[], PromptCatalog], prompts_root: Path) -> None:
        self._catalog = catalog
        self._root = prompts_root

    def execute(self) -> dict[str, Any]:
        catalog = self._catalog()
        manifest = load_manifest(self._root)
        return {
            "languages": [{"code": lang.code, "name": lang.name}
                          for lang in catalog.languages.values()],
            "prompts": [
                {"id": prompt.id, "use": prompt.use, "languages": list(prompt.languages),
                 "texts": dict(prompt.texts),
                 "recorded": [lang for lang in prompt.languages
                              if manifest.get(f"{lang}/{prompt.id}", {}).get("source")
                              == SOURCE_RECORDING]}
                for prompt in catalog.prompts.values()
            ],
        }
