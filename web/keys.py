"""Typed application state shared by every room (aiohttp AppKey)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ami import AmiLink
    from controller.loop_lag import LoopLag
    from settings import Settings
    from storage import Database
    from storage.leases import DutyLeases

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
AMI: web.AppKey[AmiLink] = web.AppKey("ami")
# This controller's duty leases (one holder identity per app), for duties that one controller
# among several sharing the database does at a time.
LEASES: web.AppKey[DutyLeases] = web.AppKey("leases")
# How late the event loop runs what is due (controller.loop_lag; shown on /health).
LOOP_LAG: web.AppKey[LoopLag] = web.AppKey("loop_lag")
