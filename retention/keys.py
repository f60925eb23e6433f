"""Typed application state of the retention room (aiohttp AppKey)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from retention.policy import RetentionPolicy
from retention.purge import PurgeExpired

if TYPE_CHECKING:
    from retention.install import RetentionRoom


@dataclass(frozen=True)
class RetentionServices:
    policy: RetentionPolicy
    purge: PurgeExpired


RETENTION: web.AppKey[RetentionServices] = web.AppKey("retention", RetentionServices)
# The room's services and loop, for tests and tools that drive a purge themselves.
RETENTION_ROOM: web.AppKey[RetentionRoom] = web.AppKey("retention_room")
