"""Where a call is routed: every (line, language, menu option) resolved to a skill queue.

This is the one place that answers "a Khmer caller on the domestic line pressed 1: which
queue?". The dialplan generator writes the table into Asterisk as global variables, the
`python -m ivr show` command prints it, and tests compare both against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from agent_routing.skills import RoutingDefinition

from .definition import IvrDefinition, LineFlow
from .events import Line, Priority


@dataclass(frozen=True)
class Route:
    line: Line
    language: str
    option: str
    queue: str
    priority: Priority
    # The queue of the same option in the fallback language (the English desk), offered when
    # nobody who speaks `language` is on shift.
    fallback_queue: str


@dataclass(frozen=True)
class RoutingTable:
    routes: Mapping[tuple[Line, str, str], Route]
    default_option: str
    emergency_option: str

    def route(self, line: Line, language: str, option: str) -> Route:
        return self.routes[(line, language, option)]

    def default_route(self, line: Line, language: str) -> Route:
        return self.route(line, language, self.default_option)

    def emergency_route(self, line: Line, language: str) -> Route:
        return self.route(line, language, self.emergency_option)

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes.values())


def build_table(ivr: IvrDefinition, definition: RoutingDefinition) -> RoutingTable:
    routes: dict[tuple[Line, str, str], Route] = {}
    fallback_language = definition.ivr.fallback_language
    for flow in ivr.lines.values():
        for language in definition.languages:
            for option in ivr.menu:
                routes[(flow.line, language, option.id)] = Route(
                    line=flow.line,
                    language=language,
                    option=option.id,
                    queue=resolve_queue(flow, language, option.id, definition),
                    priority=option.priority,
                    fallback_queue=resolve_queue(flow, fallback_language, option.id, definition),
                )
    emergency = next(o.id for o in ivr.menu if o.priority is Priority.CRITICAL)
    return RoutingTable(routes, ivr.default_option, emergency)


def resolve_queue(flow: LineFlow, language: str, option: str, definition: RoutingDefinition) -> str:
    """The first family of the option's route with a queue in the language.

    Without one (a language no family serves), the policy's default queue: a caller is never
    left without a queue.
    """
    for family in flow.routes[option]:
        queue = definition.queue_for(family, language)
        if queue is not None:
            return queue.name
    return definition.ivr.default_queue
