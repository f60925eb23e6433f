"""The seed roster (config/roster_seed.toml), parsed, and the default agents it generates.

Skills and languages are checked against the routing definition, so a seed naming a language
that has no queue stops start-up with a message instead of routing nobody.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_routing.skills import RoutingDefinition, routing
from settings import SettingsError, repo_root
from shift_schedule.model import Agent, Requirement, RosterError, ShiftDef, parse_minute

DEFAULT_PATH = repo_root() / "config" / "roster_seed.toml"


@dataclass(frozen=True)
class StaffingGroup:
    shift_id: str | None  # None: relief pool, no default shift
    skill: str
    languages: tuple[str, ...]  # the first is the one the group is required for
    count: int
    name_th: str
    name_en: str


@dataclass(frozen=True)
class SeedAgent:
    agent: Agent
    shift_id: str | None


@dataclass(frozen=True)
class SeedRoster:
    shifts: tuple[ShiftDef, ...]
    groups: tuple[StaffingGroup, ...]

    @property
    def requirements(self) -> list[Requirement]:
        return [
            Requirement(g.shift_id, g.skill, g.languages[0], g.count)
            for g in self.groups if g.shift_id is not None
        ]

    def agents(self) -> list[SeedAgent]:
        """A001… with endpoints agent-001…, numbered in the file's order."""
        seeded: list[SeedAgent] = []
        per_label: dict[str, int] = {}
        for group in self.groups:
            for _ in range(group.count):
                number = len(seeded) + 1
                per_label[group.name_en] = per_label.get(group.name_en, 0) + 1
                n = per_label[group.name_en]
                agent = Agent(
                    id=f"A{number:03d}", name=f"{group.name_th} {n} · {group.name_en} {n}",
                    endpoint=f"agent-{number:03d}", languages=frozenset(group.languages),
                    skills=frozenset({group.skill}),
                )
                seeded.append(SeedAgent(agent, group.shift_id))
        return seeded


def load_seed(path: Path = DEFAULT_PATH, definition: RoutingDefinition | None = None) -> SeedRoster:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return _parse(raw, definition or routing())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"seed roster {path}: {exc}") from exc
    except KeyError as exc:
        raise SettingsError(f"seed roster {path}: missing key {exc}") from exc
    except RosterError as exc:
        raise SettingsError(f"seed roster {path}: {exc.message} {exc.details}") from exc


def _parse(raw: Mapping[str, Any], definition: RoutingDefinition) -> SeedRoster:
    shifts = tuple(
        ShiftDef(s["id"], s["name_th"], s["name_en"], parse_minute(s["start"]),
                 parse_minute(s["end"]))
        for s in raw["shifts"]
    )
    groups = [_group(g, g["shift"], [g["language"], *g.get("also_speaks", [])])
              for g in raw["staffing"]]
    if "relief" in raw:
        groups.append(_group(raw["relief"], None, list(raw["relief"]["languages"])))
    seed = SeedRoster(shifts, tuple(groups))
    _validate(seed, definition)
    return seed


def _group(
    spec: Mapping[str, Any], shift_id: str | None, languages: Sequence[str],
) -> StaffingGroup:
    return StaffingGroup(
        shift_id=shift_id, skill=spec["skill"], languages=tuple(languages),
        count=int(spec["count"]), name_th=spec["name_th"], name_en=spec["name_en"],
    )


def _validate(seed: SeedRoster, definition: RoutingDefinition) -> None:
    shift_ids = {s.id for s in seed.shifts}
    if len(shift_ids) != len(seed.shifts):
        raise RosterError("two shifts share an id")
    for group in seed.groups:
        if group.shift_id is not None and group.shift_id not in shift_ids:
            raise RosterError("staffing names an unknown shift", shift=group.shift_id)
        if group.skill not in definition.skills:
            raise RosterError("staffing names a skill not in config/routing.toml",
                              skill=group.skill)
        unknown = [lang for lang in group.languages if lang not in definition.languages]
        if unknown:
            raise RosterError("staffing names languages not in config/routing.toml",
                              languages=unknown)
