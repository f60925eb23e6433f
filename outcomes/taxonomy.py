"""The Ministry's contact taxonomy, loaded from config/taxonomy.toml (its one source).

The outcome form's options, the validator and the reports all read this object; nothing else
spells a category, problem type or province id.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from settings import SettingsError, repo_root

DEFAULT_PATH = repo_root() / "config" / "taxonomy.toml"
# Outcome fields a category may require; anything else in `requires` is a typo in the data file.
REQUIRABLE = frozenset({"subtype", "problem_types", "target_group", "sex", "province", "referral"})


@dataclass(frozen=True)
class Choice:
    id: str
    th: str
    en: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "th": self.th, "en": self.en, **self.extra}


@dataclass(frozen=True)
class Category(Choice):
    group: str = ""
    requires: frozenset[str] = frozenset()
    subtypes: Choices[Choice] | None = None
    is_test: bool = False

    def as_json(self) -> dict[str, Any]:
        body = {
            **super().as_json(), "group": self.group, "requires": sorted(self.requires),
            "test": self.is_test,
        }
        if self.subtypes is not None:
            body["subtypes"] = self.subtypes.as_json()
        return body


@dataclass(frozen=True)
class FlagKind(Choice):
    default_days: int = 30
    max_days: int = 365

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "default_days": self.default_days, "max_days": self.max_days}


C = TypeVar("C", bound=Choice)


@dataclass(frozen=True)
class Choices(Generic[C]):
    """An ordered list of choices (the form shows them in file order), looked up by id."""

    name: str
    items: tuple[C, ...]

    def __contains__(self, choice_id: object) -> bool:
        return any(c.id == choice_id for c in self.items)

    def __iter__(self) -> Iterator[C]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, choice_id: str) -> C | None:
        return next((c for c in self.items if c.id == choice_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.items)

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.items]


@dataclass(frozen=True)
class Taxonomy:
    version: int
    categories: Choices[Category]
    problem_types: Choices[Choice]
    target_groups: Choices[Choice]
    referral_urgency: Choices[Choice]
    destination_kinds: Choices[Choice]
    departments: Choices[Choice]
    agencies_abroad: Choices[Choice]
    sexes: Choices[Choice]
    intake_channels: Choices[Choice]
    mobile_team_results: Choices[Choice]
    caller_flags: Choices[FlagKind]
    provinces: Choices[Choice]

    def destinations(self, kind: str) -> Choices[Choice] | None:
        """The places a referral of this destination kind may go to."""
        return {
            "department": self.departments, "province": self.provinces,
            "abroad": self.agencies_abroad,
        }.get(kind)

    @property
    def non_call_channels(self) -> Choices[Choice]:
        return Choices(
            "non_call_channels", tuple(c for c in self.intake_channels if not c.extra["phone"])
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            **{name: getattr(self, name).as_json() for name in _LISTS},
        }


_LISTS = (
    "categories", "problem_types", "target_groups", "referral_urgency", "destination_kinds",
    "departments", "agencies_abroad", "sexes", "intake_channels", "mobile_team_results",
    "caller_flags", "provinces",
)


def load_taxonomy(path: Path = DEFAULT_PATH) -> Taxonomy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return _parse(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"taxonomy {path}: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"taxonomy {path}: {exc}") from exc


@cache
def taxonomy() -> Taxonomy:
    """The taxonomy shipped in config/, loaded once."""
    return load_taxonomy()


def _parse(raw: Mapping[str, Any]) -> Taxonomy:
    return Taxonomy(
        version=int(raw["version"]),
        categories=_choices("categories", raw["categories"], _category),
        problem_types=_choices("problem_types", raw["problem_types"], _choice),
        target_groups=_choices("target_groups", raw["target_groups"], _choice),
        referral_urgency=_choices("referral_urgency", raw["referral_urgency"], _choice),
        destination_kinds=_choices("destination_kinds", raw["destination_kinds"], _choice),
        departments=_choices("departments", raw["departments"], _choice),
        agencies_abroad=_choices("agencies_abroad", raw["agencies_abroad"], _choice),
        sexes=_choices("sexes", raw["sexes"], _choice),
        intake_channels=_choices("intake_channels", raw["intake_channels"], _channel),
        mobile_team_results=_choices("mobile_team_results", raw["mobile_team_results"], _choice),
        caller_flags=_choices("caller_flags", raw["caller_flags"], _flag_kind),
        provinces=_choices("provinces", raw["geography"]["provinces"], _choice),
    )


def _choices(name: str, entries: list[Mapping[str, Any]], make: Any) -> Choices[Any]:
    items = tuple(make(e) for e in entries)
    ids = [c.id for c in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"[{name}] repeats ids {duplicates}")
    if not items:
        raise ValueError(f"[{name}] is empty")
    return Choices(name, items)


def _choice(e: Mapping[str, Any]) -> Choice:
    extra = {k: v for k, v in e.items() if k not in ("id", "th", "en")}
    return Choice(str(e["id"]), str(e["th"]), str(e["en"]), extra)


def _channel(e: Mapping[str, Any]) -> Choice:
    return Choice(str(e["id"]), str(e["th"]), str(e["en"]), {"phone": bool(e["phone"])})


def _category(e: Mapping[str, Any]) -> Category:
    requires = frozenset(str(r) for r in e["requires"])
    unknown = sorted(requires - REQUIRABLE)
    if unknown:
        raise ValueError(f"category {e['id']!r} requires unknown fields {unknown}")
    subtypes = e.get("subtypes")
    if "subtype" in requires and not subtypes:
        raise ValueError(f"category {e['id']!r} requires a subtype but lists none")
    return Category(
        str(e["id"]), str(e["th"]), str(e["en"]), group=str(e["group"]), requires=requires,
        subtypes=_choices(f"{e['id']}.subtypes", subtypes, _choice) if subtypes else None,
        is_test=bool(e.get("test", False)),
    )


def _flag_kind(e: Mapping[str, Any]) -> FlagKind:
    default_days, max_days = int(e["default_days"]), int(e["max_days"])
    if not 0 < default_days <= max_days:
        raise ValueError(f"caller flag {e['id']!r}: need 0 < default_days <= max_days")
    return FlagKind(
        str(e["id"]), str(e["th"]), str(e["en"]), default_days=default_days, max_days=max_days
    )
