"""Server-side event filters: what Asterisk writes to a manager session at all.

Asterisk sends a manager user every event of its read classes: about 170 KB per call here, most
of it dialplan steps (Newexten) and variable changes (VarSet) that nobody reads. An
``eventfilter`` line in manager.conf drops such events inside Asterisk, before they are
formatted for the socket, which costs Asterisk less than writing them and the controller far
less than parsing them. Asterisk 20.7/21.2+ "advanced" syntax: the event name is hashed, and
a regex (when there is one) sees one header's value only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Include the events called `name`; with `header`, only those whose header value matches
    the POSIX extended regex `pattern` (Asterisk's ``method(regex)``)."""

    name: str
    header: str | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", self.name):
            raise ValueError(f"not an AMI event name: {self.name!r}")
        if (self.header is None) != (self.pattern is None):
            raise ValueError("an event filter's header and pattern go together")

    def conf_line(self) -> str:
        """The manager.conf line."""
        if self.header is None:
            return f"eventfilter(action(include),name({self.name})) ="
        return (f"eventfilter(action(include),name({self.name}),header({self.header}),"
                f"method(regex)) = {self.pattern}")

    def admits(self, event: Mapping[str, str]) -> bool:
        """What Asterisk would decide for `event` (for replaying unfiltered recordings)."""
        if event.get("Event", "").lower() != self.name.lower():
            return False
        if self.header is None or self.pattern is None:
            return True
        return re.search(self.pattern, event.get(self.header, "")) is not None


def by_name(*names: str) -> tuple[EventFilter, ...]:
    return tuple(EventFilter(name) for name in names)


def merge(filters: Iterable[EventFilter]) -> tuple[EventFilter, ...]:
    """One list for a manager user: an event wanted whole by anyone is not also narrowed (a
    narrower filter would add nothing: Asterisk includes an event that matches any filter)."""
    unique = list(dict.fromkeys(filters))
    whole = {f.name.lower() for f in unique if f.header is None}
    kept = [f for f in unique if f.header is None or f.name.lower() not in whole]
    return tuple(sorted(kept, key=lambda f: (f.name, f.header or "", f.pattern or "")))


def admitted(filters: Iterable[EventFilter], event: Mapping[str, str]) -> bool:
    return any(f.admits(event) for f in filters)
