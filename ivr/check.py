"""The IVR's start-up check: every prompt the generated dialplan can play exists, in every
language it can be played in, as a file Asterisk can play.

Asterisk does not refuse a dialplan that names a missing file: Background() on a missing prompt
hangs the caller up. On a crisis line that must be found at start-up, not by a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent_routing.skills import RoutingDefinition, routing
from dialplans.extensions import DialplanPaths, all_prompt_uses, build_dialplan
from recordings.catalog import (
    DEFAULT_ROOT,
    MissingPromptError,
    PromptCatalog,
    UnknownPromptError,
)

from .definition import IvrDefinition, ivr_definition

# Paths only matter to the dialplan's text, not to which prompts it plays.
_ANY_PATHS = DialplanPaths(PurePosixPath("/"), PurePosixPath("/"))


@dataclass(frozen=True)
class CheckReport:
    prompts: int  # distinct prompt ids the dialplan plays
    files: int  # (language, prompt) files checked


class IvrStartupCheck:
    """Run before the line takes calls; raises `recordings.catalog.PromptError` naming the
    prompt id, the language and the file."""

    def __init__(
        self,
        catalog: PromptCatalog,
        prompt_root: Path = DEFAULT_ROOT,
        ivr: IvrDefinition | None = None,
        definition: RoutingDefinition | None = None,
    ) -> None:
        self._catalog = catalog
        self._root = prompt_root
        self._ivr = ivr or ivr_definition()
        self._definition = definition or routing()

    def run(self) -> CheckReport:
        wanted = self._prompts_the_dialplan_plays()
        self._require_catalog_entries(wanted)
        self._require_files(wanted)
        self._catalog.check_files(self._root)
        return CheckReport(prompts=len({p for _, p in wanted}), files=len(wanted))

    def _prompts_the_dialplan_plays(self) -> list[tuple[str, str]]:
        dialplan = build_dialplan(_ANY_PATHS, self._ivr, self._definition)
        return sorted(all_prompt_uses(self._definition.languages, dialplan.prompts))

    def _require_catalog_entries(self, wanted: list[tuple[str, str]]) -> None:
        for lang, prompt_id in wanted:
            try:
                self._catalog.file(prompt_id, lang)
            except UnknownPromptError as exc:
                raise UnknownPromptError(
                    f"the IVR plays prompt {prompt_id!r} [{lang}], but the catalog "
                    f"{self._catalog.path} does not define it: {exc}"
                ) from exc

    def _require_files(self, wanted: list[tuple[str, str]]) -> None:
        missing = [
            (lang, p) for lang, p in wanted if not (self._root / lang / f"{p}.wav").is_file()
        ]
        if missing:
            lang, prompt_id = missing[0]
            raise MissingPromptError(
                prompt_id, lang, self._root / lang / f"{prompt_id}.wav", more=len(missing) - 1
            )


def check_ivr(prompt_root: Path = DEFAULT_ROOT) -> CheckReport:
    """The check with the shipped catalog, definitions and prompt folder."""
    return IvrStartupCheck(PromptCatalog.load(), prompt_root).run()
