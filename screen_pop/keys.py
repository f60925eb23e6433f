"""Typed application state of the screen-pop (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from screen_pop.feed import PopFeed
from screen_pop.hub import PopHub

POP_HUB: web.AppKey[PopHub] = web.AppKey("pop_hub", PopHub)
POP_FEED: web.AppKey[PopFeed] = web.AppKey("pop_feed", PopFeed)
