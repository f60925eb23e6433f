"""Log lines about one call carry its linkedid, and only those: the handlers that log them run in
long-lived tasks (AMI subscriber mailboxes, the callback loop), so the binding is undone after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from controller.logs import bind_call


@contextmanager
def about_call(linkedid: str) -> Iterator[None]:
    bind_call(linkedid)
    try:
        yield
    finally:
        structlog.contextvars.unbind_contextvars("linkedid")
