"""``python -m ivr``: the IVR for humans.

python -m ivr show    every DTMF path of every line: queue, priority, language, fallback
python -m ivr check   the start-up check (every prompt the dialplan plays exists)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

from agent_routing.skills import RoutingDefinition, routing
from recordings.catalog import PromptError
from settings import SettingsError

from .check import check_ivr
from .definition import IvrDefinition, LineFlow, ivr_definition
from .events import Priority
from .routing_table import Route, RoutingTable, build_table

_HEADER = ("keys", "language", "option", "queue", "priority", "nobody on shift")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("show", "check"))
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            report = check_ivr()
            print(f"ok: {report.prompts} prompts, {report.files} files")
        else:
            sys.stdout.write(show() + "\n")
    except (SettingsError, PromptError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def show(ivr: IvrDefinition | None = None, definition: RoutingDefinition | None = None) -> str:
    ivr = ivr or ivr_definition()
    definition = definition or routing()
    table = build_table(ivr, definition)
    blocks = [_line_block(flow, ivr, definition, table) for flow in ivr.lines.values()]
    return "\n\n".join(blocks)


def _line_block(
    flow: LineFlow, ivr: IvrDefinition, definition: RoutingDefinition, table: RoutingTable
) -> str:
    default_queue = definition.ivr.default_queue
    paths = _paths(flow, ivr, definition, table)
    rows = [_HEADER, *(_row(keys, route, asked, default_queue) for keys, route, asked in paths)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    title = (
        f"{flow.line} line, dialled {flow.did} "
        f"({flow.language_mode} language, default {flow.default_language})"
    )
    return "\n".join([title, *lines]).rstrip()


def _paths(
    flow: LineFlow, ivr: IvrDefinition, definition: RoutingDefinition, table: RoutingTable
) -> Iterator[tuple[str, Route, bool]]:
    """(keys pressed, route, whether the caller is asked when nobody is on shift)."""
    emergency_key = definition.ivr.emergency_key
    default = flow.default_language
    yield f"{emergency_key} (any time)", table.emergency_route(flow.line, default), False
    if flow.language_mode == "choose":
        yield "(no/invalid key twice)", table.default_route(flow.line, default), False
    for lang in definition.languages.values():
        prefix = (
            "" if flow.language_mode == "switch" and lang.code == default else f"{lang.ivr_key} "
        )
        for option in ivr.menu:
            route = table.route(flow.line, lang.code, option.id)
            yield f"{prefix}{option.digit}", route, route.priority is not Priority.CRITICAL
        yield f"{prefix}(no/invalid key twice)", table.default_route(flow.line, lang.code), False


def _row(keys: str, route: Route, asked: bool, default_queue: str) -> tuple[str, ...]:
    desk = route.fallback_queue != route.queue
    if not asked:
        # Emergency callers and callers who gave no valid key are not asked another question:
        # the desk, else the default queue, else they wait in their own queue.
        fallback = f"{route.fallback_queue if desk else default_queue} (not asked)"
    else:
        fallback = f"{route.fallback_queue} or callback" if desk else "callback"
    return (keys, route.language, route.option, route.queue, route.priority, fallback)


if __name__ == "__main__":
    raise SystemExit(main())
