"""Every AMI event the controller reads: the manager user's eventfilter lines are made from it.

Each room declares the events its subscribers take (and, where it reads only some events of a
name, which); this is their union. Asterisk then sends nothing else to the controller.
tests/ami/test_event_filters.py starts the whole app and checks every subscription against it.
"""

from __future__ import annotations

from typing import Final

from agent_routing.install import AMI_EVENTS as ROUTING_EVENTS
from ami.filters import EventFilter, by_name, merge
from call_log.facts import AMI_FILTERS as CALL_EVENTS
from reports.activity import EVENT_NAMES as ACTIVITY_EVENTS
from reports.wallboard.live import EVENT_NAMES as WALLBOARD_EVENTS

CONTROLLER_EVENTS: Final[tuple[EventFilter, ...]] = merge(
    (*CALL_EVENTS, *by_name(*ROUTING_EVENTS, *ACTIVITY_EVENTS, *WALLBOARD_EVENTS))
)


def eventfilter_lines() -> list[str]:
    return [f.conf_line() for f in CONTROLLER_EVENTS]
