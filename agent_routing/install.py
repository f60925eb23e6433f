"""The roster and routing room, assembled: `install(app)` for controller/wiring.py, and
`build_room(...)` (the same assembly) for tests and the benchmark, with any clock.

Background work (aiohttp cleanup_ctx): the roster scheduler (shift boundaries, roster and state
changes, AMI reconnects) and the callback scheduler. Both are cancelled and awaited on shutdown.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from aiohttp import web

from agent_routing import http as routing_http
from agent_routing.agent_states import LogAgentIn, LogAgentOut, PauseAgent, UnpauseAgent
from agent_routing.apply import ApplyRoster, RosterScheduler, ShiftSource
from agent_routing.asterisk_queues import AmiOriginator, AsteriskQueues
from agent_routing.callbacks import (
    CallbackPolicy,
    CallbackScheduler,
    CancelCallback,
    PlaceCallbacks,
    RecordCallbackRequest,
    RecordCallbackResult,
)
from agent_routing.explain import ExplainRouting
from agent_routing.floor import ReadFloor
from agent_routing.live import EVENTS as PHONE_EVENTS
from agent_routing.live import LiveBoard
from agent_routing.situations import SituationReader
from agent_routing.skills import RoutingDefinition, routing
from ami import AmiError, AmiLink, Event, LinkState, StateChange
from ivr.definition import ivr_definition
from ivr.events import CallbackResult, IvrStep
from ivr.routing_table import build_table
from settings import Settings
from shift_schedule import http as roster_http
from shift_schedule.bootstrap import GenerateRosterDays, SeedDefaultRoster
from shift_schedule.catalog import CreateAgentAccount, SaveAgent, SaveShift
from shift_schedule.clock import Clock, SystemClock
from shift_schedule.editing import (
    AddAssignment,
    CancelAbsence,
    EditContext,
    MarkAbsent,
    MoveAssignment,
    RemoveAssignment,
    SwapAssignments,
)
from shift_schedule.model import ShiftDef
from shift_schedule.queries import ReadWeek
from shift_schedule.seed import load_seed
from shift_schedule.store import RosterStore
from storage import Database
from storage.leases import DutyLeases, LeaseKeeper
from web.background import stop_tasks
from web.keys import AMI, DATABASE, LEASES, SETTINGS

log = structlog.get_logger(__name__)
IDLE_DEVICE = "1"
IVR_EVENTS = ("UserEvent",)  # the IVR's steps and callback results
ORIGINATE_EVENTS = ("OriginateResponse",)  # how a callback's agent leg went
# What this room reads from Asterisk (controller/ami_events.py makes manager.conf's filter).
AMI_EVENTS = (*IVR_EVENTS, *ORIGINATE_EVENTS, *PHONE_EVENTS)


@dataclass
class Triggers:
    """Whom a change wakes. Bound after the loops exist, since the services that pull these
    triggers are built before the loops that listen to them."""

    link: AmiLink | None = None
    apply: ApplyRoster | None = None
    scheduler: RosterScheduler | None = None
    callbacks: CallbackScheduler | None = None

    def changed(self) -> None:
        """Something that decides queue membership changed: reconcile soon."""
        if self.scheduler is not None:
            self.scheduler.wake()
        self.kick_callbacks()

    def kick_callbacks(self) -> None:
        if self.callbacks is not None:
            self.callbacks.kick()

    async def reconcile_now(self) -> bool:
        """Reconcile before answering (an agent's pause shows in Asterisk at once); False when
        Asterisk is out of reach, in which case the scheduler restores it on reconnect."""
        if self.apply is None or self.link is None or not self.link.connected:
            self.changed()
            return False
        try:
            report = await self.apply.execute()
        except (AmiError, TimeoutError) as exc:
            log.warning("roster.apply_failed", error=str(exc))
            self.changed()
            return False
        self.kick_callbacks()
        return report.ok


@dataclass
class Room:
    """Every service of the room, built once, and its background loops."""

    triggers: Triggers
    live: LiveBoard
    seed: SeedDefaultRoster
    generate_days: GenerateRosterDays
    roster: roster_http.RosterServices
    routing: routing_http.RoutingServices
    record_callback_request: RecordCallbackRequest
    record_callback_result: RecordCallbackResult
    # Whether this controller applies the roster to its Asterisk (several may share it).
    lease: LeaseKeeper | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def on_user_event(self, event: Event) -> None:
        step = IvrStep.from_event(event)
        if step is not None:
            await self.record_callback_request.handle(step)
            return
        result = CallbackResult.from_event(event)
        if result is not None:
            await self.record_callback_result.caller_result(result)

    async def on_originate_response(self, event: Event) -> None:
        if (event.get("Response") or "").lower() != "success":
            await self.record_callback_result.agent_leg_failed(
                event.get("ActionID") or "", event.get("Reason") or "failed")

    def on_phone_event(self, event: Event) -> None:
        self.live.on_event(event)
        if event.name == "QueueMemberStatus" and event.get("Status") == IDLE_DEVICE:
            self.triggers.kick_callbacks()  # a free agent may take a waiting callback

    def on_link_state(self, change: StateChange) -> None:
        if change.state is LinkState.CONNECTED:
            log.info("roster.ami_connected", session=change.session)
            self.triggers.changed()  # a restarted Asterisk has empty queues: restore them

    async def start(self) -> None:
        await self.seed.execute()
        await self.generate_days.execute()
        t = self.triggers
        if t.link is None or t.scheduler is None or t.callbacks is None:
            return
        t.link.subscribe(self.on_user_event, *IVR_EVENTS)
        t.link.subscribe(self.on_originate_response, *ORIGINATE_EVENTS)
        t.link.subscribe(self.on_phone_event, *PHONE_EVENTS)
        t.link.on_state(self.on_link_state)
        self.tasks = [asyncio.create_task(t.scheduler.run(), name="roster-scheduler"),
                      asyncio.create_task(t.callbacks.run(), name="callback-scheduler")]
        if self.lease is not None:
            self.tasks.append(asyncio.create_task(self.lease.run(), name="roster-lease"))

    async def stop(self) -> None:
        await stop_tasks(self.tasks)
        self.tasks = []


def build_room(
    settings: Settings, db: Database, link: AmiLink | None, clock: Clock,
    leases: DutyLeases | None = None,
) -> Room:
    """`leases`: with several controllers on one database, the roster is applied to an
    Asterisk by the one holding that Asterisk's lease (None: always by this one)."""
    definition = routing()
    r = settings.routing
    reader = SituationReader(db, clock, settings.timezone, r.auto_login_on_shift)
    queues = AsteriskQueues(link, settings.ami.action_timeout) if link is not None else None
    triggers = Triggers(link, ApplyRoster(reader, queues, definition) if queues else None)
    live = LiveBoard(clock, r.wrapup_seconds)
    policy = CallbackPolicy(r.callback_max_attempts, timedelta(minutes=r.callback_retry_minutes),
                            r.callback_agent_ring_seconds)
    room = Room(
        triggers=triggers, live=live,
        seed=SeedDefaultRoster(db, load_seed(definition=definition)),
        generate_days=GenerateRosterDays(db, clock, settings.timezone, r.roster_horizon_days),
        roster=_roster_services(settings, db, clock, definition, triggers),
        routing=_routing_services(settings, db, reader, live, queues, definition, triggers),
        record_callback_request=RecordCallbackRequest(
            db, clock, definition.ivr.fallback_language, triggers.changed),
        record_callback_result=RecordCallbackResult(db, reader, policy, triggers.changed),
    )
    if triggers.apply is not None and queues is not None and link is not None:
        if leases is not None:
            room.lease = LeaseKeeper(leases, roster_duty(settings), on_gained=triggers.changed)
        lease = room.lease
        triggers.scheduler = RosterScheduler(triggers.apply, _shift_source(db), clock,
                                             settings.timezone,
                                             before_apply=room.generate_days.execute,
                                             may_act=(lambda: lease.held) if lease else None)
        place = PlaceCallbacks(db, reader, queues, AmiOriginator(link), definition, policy)
        triggers.callbacks = CallbackScheduler(place, db, reader)
    return room


def _roster_services(
    settings: Settings, db: Database, clock: Clock, definition: RoutingDefinition,
    triggers: Triggers,
) -> roster_http.RosterServices:
    tz, r = settings.timezone, settings.routing
    ctx = EditContext(db, clock, tz, triggers.changed)
    return roster_http.RosterServices(
        db=db, clock=clock, tz=tz, read_week=ReadWeek(db, tz, definition, r.min_counsellors),
        add=AddAssignment(ctx), remove=RemoveAssignment(ctx), move=MoveAssignment(ctx),
        swap=SwapAssignments(ctx), absent=MarkAbsent(ctx), cancel_absence=CancelAbsence(ctx),
        save_shift=SaveShift(ctx),
        save_agent=SaveAgent(ctx, definition, settings.asterisk.agent_endpoints),
        create_account=CreateAgentAccount(ctx),
    )


def _routing_services(
    settings: Settings, db: Database, reader: SituationReader, live: LiveBoard,
    queues: AsteriskQueues | None, definition: RoutingDefinition, triggers: Triggers,
) -> routing_http.RoutingServices:
    ivr = ivr_definition()
    reconcile = triggers.reconcile_now
    return routing_http.RoutingServices(
        db=db, definition=definition,
        floor=ReadFloor(db, reader, live, definition, settings.routing.min_counsellors),
        explain=ExplainRouting(reader, queues, live, definition, ivr, build_table(ivr, definition)),
        login=LogAgentIn(db, reader, reconcile), logout=LogAgentOut(db, reader, reconcile),
        pause=PauseAgent(db, reader, reconcile), unpause=UnpauseAgent(db, reader, reconcile),
        cancel_callback=CancelCallback(db, reader), apply=triggers.apply, queues=queues,
    )


def roster_duty(settings: Settings) -> str:
    """The lease name of "apply the roster to this Asterisk": one per Asterisk node, so each
    node's queues are kept by exactly one of the controllers attached to it."""
    host, port = settings.ami.host, settings.ami.port
    node = socket.gethostname() if host in ("127.0.0.1", "::1", "localhost") else host
    return f"roster-apply:{node}:{port}"


def _shift_source(db: Database) -> ShiftSource:
    async def shifts() -> list[ShiftDef]:
        async with db.session() as session:
            return await RosterStore(session).shifts()

    return shifts


ROOM: web.AppKey[Room] = web.AppKey("roster_room", Room)


def install(app: web.Application) -> None:
    roster_http.add_routes(app)
    routing_http.add_routes(app)
    app.cleanup_ctx.append(_room)


async def _room(app: web.Application) -> AsyncIterator[None]:
    room = build_room(app[SETTINGS], app[DATABASE], app.get(AMI), SystemClock(), app[LEASES])
    app[ROOM] = room
    app[roster_http.ROSTER] = room.roster
    app[routing_http.ROUTING] = room.routing
    await room.start()
    yield
    await room.stop()
