"""The IVR menu definition (config/ivr.toml), parsed and checked against config/routing.toml.

A mistake in either file (a digit used twice, a route naming an unknown queue family, a line
without a DID) stops start-up with a message naming the file and the key: a broken menu on a
crisis line must never reach a caller.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal

from agent_routing.skills import RoutingDefinition, routing
from settings import SettingsError, repo_root

from .events import Line, Priority

DEFAULT_PATH = repo_root() / "config" / "ivr.toml"

LanguageMode = Literal["switch", "choose"]
# Lines that callers dial; "callback" is the controller's outbound line, with no menu.
INBOUND_LINES = (Line.DOMESTIC, Line.INTERNATIONAL)


@dataclass(frozen=True)
class Timing:
    language_timeout: int
    menu_timeout: int
    menu_attempts: int
    number_timeout: int
    number_max_digits: int
    message_max_seconds: int
    message_silence_seconds: int
    queue_announce_seconds: int
    survey_timeout: int


@dataclass(frozen=True)
class MenuOption:
    id: str
    digit: str
    prompt: str
    priority: Priority
    label: Mapping[str, str]  # language -> the option's name on agents' pages


@dataclass(frozen=True)
class LineFlow:
    line: Line
    did: str
    language_mode: LanguageMode
    default_language: str
    greeting: str
    greeting_languages: tuple[str, ...]
    # menu option id -> queue families, in order of preference
    routes: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class CallbackKeys:
    fallback_desk_key: str
    callback_key: str
    confirm_key: str
    retry_key: str
    queue_callback_key: str
    international_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Prompts:
    language_option: str
    choose_language: str
    emergency_option: str
    invalid: str
    no_input: str
    emergency: str
    connecting: str
    default_queue: str
    fallback_no_agent: str
    fallback_desk_option: str
    fallback_callback_option: str
    callback_record: str
    callback_enter_number: str
    callback_number_is: str
    callback_confirm_option: str
    callback_retry_option: str
    callback_when_on_shift: str
    callback_from_hour: str
    callback_hour_suffix: str
    callback_thanks: str
    queue_callback_option: str
    survey_question: str
    survey_thanks: str
    digit: str

    def digit_prompt(self, digit: str) -> str:
        return self.digit.format(d=digit)

    def step_prompts(self) -> tuple[str, ...]:
        """Every prompt id but the digit template."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "digit")


@dataclass(frozen=True)
class IvrDefinition:
    timing: Timing
    queue_priorities: Mapping[Priority, int]
    menu: tuple[MenuOption, ...]
    default_option: str
    lines: Mapping[Line, LineFlow]
    callback: CallbackKeys
    prompts: Prompts

    def option(self, option_id: str) -> MenuOption:
        for option in self.menu:
            if option.id == option_id:
                return option
        raise KeyError(f"no menu option {option_id!r}")


def load_ivr(
    path: Path = DEFAULT_PATH, definition: RoutingDefinition | None = None
) -> IvrDefinition:
    routing_def = definition or routing()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"IVR definition {path}: {exc}") from exc
    try:
        ivr = _parse(raw, routing_def)
    except KeyError as exc:
        raise SettingsError(f"IVR definition {path}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"IVR definition {path}: {exc}") from exc
    _validate(ivr, routing_def, path)
    return ivr


@cache
def ivr_definition() -> IvrDefinition:
    """The definition shipped in config/, loaded once."""
    return load_ivr()


def _parse(raw: Mapping[str, Any], routing_def: RoutingDefinition) -> IvrDefinition:
    priorities = {Priority(k): int(v) for k, v in raw["priorities"].items()}
    priorities[Priority.CRITICAL] = routing_def.ivr.critical_priority
    callback = raw["callback"]
    return IvrDefinition(
        timing=Timing(**{f.name: int(raw["timing"][f.name]) for f in fields(Timing)}),
        queue_priorities=priorities,
        menu=tuple(
            MenuOption(
                o["id"], str(o["digit"]), o["prompt"], Priority(o["priority"]),
                {str(lang): str(text) for lang, text in o["label"].items()},
            )
            for o in raw["menu"]["options"]
        ),
        default_option=raw["menu"]["default_option"],
        lines={
            line: _parse_line(line, raw["lines"][line.value], routing_def) for line in INBOUND_LINES
        },
        callback=CallbackKeys(
            fallback_desk_key=str(callback["fallback_desk_key"]),
            callback_key=str(callback["callback_key"]),
            confirm_key=str(callback["confirm_key"]),
            retry_key=str(callback["retry_key"]),
            queue_callback_key=str(callback["queue_callback_key"]),
            international_prefixes=tuple(str(p) for p in callback["international_prefixes"]),
        ),
        prompts=Prompts(**{f.name: str(raw["prompts"][f.name]) for f in fields(Prompts)}),
    )


def _parse_line(line: Line, raw: Mapping[str, Any], routing_def: RoutingDefinition) -> LineFlow:
    mode = raw["language_mode"]
    if mode not in ("switch", "choose"):
        raise ValueError(f"[lines.{line}] language_mode must be 'switch' or 'choose', not {mode!r}")
    did = (
        routing_def.ivr.domestic_did if line is Line.DOMESTIC else routing_def.ivr.international_did
    )
    return LineFlow(
        line=line,
        did=did,
        language_mode=mode,
        default_language=raw["default_language"],
        greeting=raw["greeting"],
        greeting_languages=tuple(raw["greeting_languages"]),
        routes={option: tuple(families) for option, families in raw["routes"].items()},
    )


def _validate(ivr: IvrDefinition, routing_def: RoutingDefinition, path: Path) -> None:
    problems = [
        *_menu_problems(ivr, routing_def),
        *_line_problems(ivr, routing_def),
        *_key_problems(ivr),
    ]
    if problems:
        raise SettingsError(f"IVR definition {path}: " + "; ".join(problems))


def _menu_problems(ivr: IvrDefinition, routing_def: RoutingDefinition) -> list[str]:
    problems = []
    digits = [o.digit for o in ivr.menu]
    if len(set(digits)) != len(digits):
        problems.append("two menu options share a digit")
    if routing_def.ivr.emergency_key in digits:
        problems.append(f"a menu digit is the emergency key {routing_def.ivr.emergency_key!r}")
    problems += [
        f"menu option {o.id!r}: digit must be 0-9" for o in ivr.menu if not _is_key(o.digit)
    ]
    problems += [
        f"menu option {o.id!r}: label needs th and en (the agents' pages)"
        for o in ivr.menu if not {"th", "en"} <= {k for k, v in o.label.items() if v.strip()}
    ]
    if routing_def.ivr.emergency_key in {lang.ivr_key for lang in routing_def.languages.values()}:
        problems.append("a language's ivr_key is the emergency key")
    if ivr.default_option not in {o.id for o in ivr.menu}:
        problems.append(f"[menu] default_option {ivr.default_option!r} is not a menu option")
    if not any(o.priority is Priority.CRITICAL for o in ivr.menu):
        problems.append("no menu option has priority 'critical' (the emergency key needs one)")
    missing = {p for p in Priority} - set(ivr.queue_priorities)
    if missing:
        problems.append(f"[priorities] misses {sorted(missing)}")
    return problems


def _line_problems(ivr: IvrDefinition, routing_def: RoutingDefinition) -> list[str]:
    problems = []
    families = {q.family for q in routing_def.queues}
    option_ids = {o.id for o in ivr.menu}
    for flow in ivr.lines.values():
        where = f"[lines.{flow.line}]"
        for lang in (flow.default_language, *flow.greeting_languages):
            if lang not in routing_def.languages:
                problems.append(f"{where} names unknown language {lang!r}")
        if set(flow.routes) != option_ids:
            problems.append(
                f"{where} routes must name exactly the menu options {sorted(option_ids)}"
            )
        for option, route in flow.routes.items():
            unknown = [f for f in route if f not in families]
            if unknown or not route:
                problems.append(f"{where} route {option!r} names unknown queue families {unknown}")
    return problems


def _key_problems(ivr: IvrDefinition) -> list[str]:
    keys = ivr.callback
    problems = []
    if keys.fallback_desk_key == keys.callback_key:
        problems.append("[callback] fallback_desk_key and callback_key are the same")
    if keys.confirm_key == keys.retry_key:
        problems.append("[callback] confirm_key and retry_key are the same")
    for name in (
        "fallback_desk_key",
        "callback_key",
        "confirm_key",
        "retry_key",
        "queue_callback_key",
    ):
        if not _is_key(getattr(keys, name)):
            problems.append(f"[callback] {name} must be one of 0-9")
    if "{d}" not in ivr.prompts.digit:
        problems.append("[prompts] digit must contain {d}")
    return problems


def _is_key(value: str) -> bool:
    return len(value) == 1 and value.isdigit()
