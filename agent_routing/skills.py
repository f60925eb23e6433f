"""Languages, skills and skill queues: the one definition (config/routing.toml), parsed.

Everything that names a queue (Asterisk's queues.conf, the IVR's routing variables, the roster's
membership computation, the pages' options) asks this module rather than spelling names itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from settings import SettingsError, repo_root

DEFAULT_PATH = repo_root() / "config" / "routing.toml"


@dataclass(frozen=True)
class Language:
    code: str
    name_en: str
    name_native: str
    ivr_key: str
    espeak_voice: str


@dataclass(frozen=True)
class Skill:
    id: str
    name_en: str
    name_th: str


@dataclass(frozen=True)
class SkillQueue:
    """One Asterisk queue: a skill in one language."""

    name: str
    family: str
    language: str
    skill: str
    overflow: Mapping[str, int]
    record: bool
    description: str

    def penalty_for(self, skills: frozenset[str], languages: frozenset[str]) -> int | None:
        """Penalty of an agent with these skills and languages, or None if not a member."""
        if self.language not in languages:
            return None
        if self.skill in skills:
            return 0
        penalties = [p for s, p in self.overflow.items() if s in skills]
        return min(penalties) if penalties else None


@dataclass(frozen=True)
class IvrPolicy:
    default_queue: str
    fallback_language: str
    critical_priority: int
    emergency_key: str
    domestic_did: str
    international_did: str


@dataclass(frozen=True)
class RoutingDefinition:
    languages: Mapping[str, Language]
    skills: Mapping[str, Skill]
    queues: tuple[SkillQueue, ...]
    ivr: IvrPolicy

    def queue(self, name: str) -> SkillQueue:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(f"no skill queue named {name!r}")

    def queue_for(self, family: str, language: str) -> SkillQueue | None:
        for q in self.queues:
            if q.family == family and q.language == language:
                return q
        return None

    @property
    def queue_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.queues)


def load_routing(path: Path = DEFAULT_PATH) -> RoutingDefinition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"routing definition {path}: {exc}") from exc
    try:
        return _parse(raw, path)
    except KeyError as exc:
        raise SettingsError(f"routing definition {path}: missing key {exc}") from exc


@cache
def routing() -> RoutingDefinition:
    """The definition shipped in config/, loaded once."""
    return load_routing()


def _parse(raw: Mapping[str, Any], path: Path) -> RoutingDefinition:
    languages = {
        code: Language(code, v["name_en"], v["name_native"], str(v["ivr_key"]), v["espeak_voice"])
        for code, v in raw["languages"].items()
    }
    skills = {sid: Skill(sid, v["name_en"], v["name_th"]) for sid, v in raw["skills"].items()}
    queues = tuple(q for spec in raw["queues"] for q in _expand(spec, languages, skills, path))
    ivr = raw["ivr"]
    policy = IvrPolicy(
        default_queue=ivr["default_queue"],
        fallback_language=ivr["fallback_language"],
        critical_priority=int(ivr["critical_priority"]),
        emergency_key=str(ivr["emergency_key"]),
        domestic_did=str(raw["lines"]["domestic"]["did"]),
        international_did=str(raw["lines"]["international"]["did"]),
    )
    definition = RoutingDefinition(languages, skills, queues, policy)
    _validate(definition, path)
    return definition


def _expand(
    spec: Mapping[str, Any],
    languages: Mapping[str, Language],
    skills: Mapping[str, Skill],
    path: Path,
) -> list[SkillQueue]:
    langs = list(languages) if spec["languages"] == ["*"] else list(spec["languages"])
    for skill in [spec["skill"], *spec.get("overflow", {})]:
        if skill not in skills:
            raise SettingsError(
                f"routing definition {path}: queue {spec['id']!r} names unknown skill {skill!r}"
            )
    for lang in langs:
        if lang not in languages:
            raise SettingsError(
                f"routing definition {path}: queue {spec['id']!r} names unknown language {lang!r}"
            )
    return [
        SkillQueue(
            name=f"{spec['id']}-{lang}",
            family=spec["id"],
            language=lang,
            skill=spec["skill"],
            overflow=dict(spec.get("overflow", {})),
            record=bool(spec.get("record", False)),
            description=spec.get("description", ""),
        )
        for lang in langs
    ]


def _validate(d: RoutingDefinition, path: Path) -> None:
    keys = [lang.ivr_key for lang in d.languages.values()]
    if len(set(keys)) != len(keys):
        raise SettingsError(f"routing definition {path}: two languages share an IVR key")
    if d.ivr.default_queue not in d.queue_names:
        raise SettingsError(
            f"routing definition {path}: [ivr] default_queue {d.ivr.default_queue!r} is not a queue"
        )
    if d.ivr.fallback_language not in d.languages:
        raise SettingsError(f"routing definition {path}: [ivr] fallback_language is not a language")
