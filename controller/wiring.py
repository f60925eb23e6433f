"""The one wiring point: every collaborator is built here and handed to the services that use it.

Each room contributes an `install(app)` that adds its routes and its background work
(`cleanup_ctx`: started in order, stopped in reverse). Nothing else constructs services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from agent_routing.install import install as install_roster_room
from agent_routing.skills import routing
from call_log.install import install as install_call_log
from caller_flags.install import install as install_caller_flags
from case_stubs.install import install as install_case_stubs
from controller import loop_lag
from ivr.install import install as install_ivr
from outcomes.install import install as install_outcomes
from recordings.install import install as install_recordings
from reports.install import install as install_reports
from retention.install import install as install_retention
from screen_pop.install import install as install_screen_pop
from settings import Settings
from storage import Database, upgrade_to_head
from storage.leases import DutyLeases, controller_identity
from web import pages
from web.auth import session_middleware
from web.bootstrap import ensure_first_supervisor
from web.input_guard import refuse_nul
from web.keys import AMI, DATABASE, LEASES, SETTINGS

log = structlog.get_logger(__name__)

Installer = Callable[[web.Application], None]


def build_app(settings: Settings, *, with_ami: bool = True) -> web.Application:
    app = web.Application(
        middlewares=[refuse_nul, session_middleware], client_max_size=60 * 1024 * 1024
    )
    app[SETTINGS] = settings
    loop_lag.install(app)  # first: it watches everything started after it
    app.cleanup_ctx.append(_database)
    if with_ami:
        app.cleanup_ctx.append(_ami_link)
    pages.setup_routes(app)
    for install in room_installers():
        install(app)
    return app


def room_installers() -> list[Installer]:
    """Every room's installer, in start-up order (later rooms use earlier rooms' keys)."""
    return [
        install_ivr,  # first: its start-up check stops the controller before a call is taken
        install_roster_room,
        install_case_stubs,  # before the call log: the tracker's start-up needs the stubs
        install_call_log,
        install_caller_flags,  # the agent desk after the call log (its bus and stubs)
        install_screen_pop,
        install_outcomes,  # after the pops: a saved outcome closes the pop
        install_recordings,  # listens for ended calls and writes to stubs
        install_retention,  # the daily purge of every kind of personal data, its preview
        install_reports,  # last: the wallboard reads the roster room's coverage warnings
    ]


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    routing()  # a broken routing definition stops start-up before anything listens
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    app[DATABASE] = db
    app[LEASES] = DutyLeases(db, controller_identity())
    await ensure_first_supervisor(db, settings.state_dir)
    yield
    await db.close()


async def _ami_link(app: web.Application) -> AsyncIterator[None]:
    from ami import AmiLink  # imported here so web-only tests need no AMI at all
    from controller.asterisk_check import AsteriskVersionCheck

    s = app[SETTINGS].ami
    link = AmiLink(
        s.host,
        s.port,
        s.username,
        s.secret,
        action_timeout=s.action_timeout,
        ping_interval=s.ping_interval,
        ping_timeout=s.ping_timeout,
    )
    app[AMI] = link
    link.on_state(AsteriskVersionCheck(link).on_state)
    await link.start()
    yield
    await link.close()
