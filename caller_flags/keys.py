"""Typed application state of caller flags (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from caller_flags.service import FlagCaller, LiftFlag
from caller_flags.store import FlagStore

FLAG_STORE: web.AppKey[FlagStore] = web.AppKey("flag_store", FlagStore)
FLAG_CALLER: web.AppKey[FlagCaller] = web.AppKey("flag_caller", FlagCaller)
LIFT_FLAG: web.AppKey[LiftFlag] = web.AppKey("lift_flag", LiftFlag)
