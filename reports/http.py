"""The reports' REST API, the report and wallboard pages, and the wallboard's WebSocket.

    GET /api/reports/monthly?month=2017-10&format=json|csv|pdf&lang=th|en
    GET /api/reports/provincial?province=TH-54&from=2024-02-01&to=2024-08-28&format=…
    GET /api/reports/kpis?from=…&to=…&shift=…&language=…&queue=…&format=json|csv
    GET /api/reports/options          what the pages' selectors offer
    GET /api/wallboard                the board the screens show (also over /ws/wallboard)

Supervisors only: the figures are the Ministry's, not for the agents' desks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from agent_routing.skills import RoutingDefinition
from outcomes.taxonomy import Taxonomy
from reports.document import LANGS, Lang, ReportDocument
from reports.kpis import ComputeKpis, KpiError, KpiFilter
from reports.monthly import BuildMonthlyReport
from reports.period import DateRange, Month, PeriodError
from reports.provincial import BuildProvincialReport, UnknownProvince
from reports.render.csv_export import kpis_to_csv, to_csv
from reports.wallboard.feed import WallboardFeed
from reports.wallboard.hub import WallboardHub
from web.accounts import Role
from web.auth import current_user, json_error, require
from web.openapi import api_doc
from web.pages import page

TAGS = ("reports",)
MAX_RANGE_DAYS = 3 * 366  # longer ranges are a data export, not a report
FORMATS = ("json", "csv", "pdf")


@dataclass(frozen=True)
class ReportServices:
    monthly: BuildMonthlyReport
    provincial: BuildProvincialReport
    kpis: ComputeKpis
    taxonomy: Taxonomy
    definition: RoutingDefinition
    tz: ZoneInfo


REPORTS: web.AppKey[ReportServices] = web.AppKey("reports", ReportServices)
WALLBOARD_HUB: web.AppKey[WallboardHub] = web.AppKey("wallboard_hub", WallboardHub)
WALLBOARD_FEED: web.AppKey[WallboardFeed] = web.AppKey("wallboard_feed", WallboardFeed)

_FORMAT = {"type": "string", "enum": list(FORMATS), "default": "json"}
_LANG = {"type": "string", "enum": list(LANGS), "default": "th"}
_DATE = {"type": "string", "format": "date"}


@require(Role.SUPERVISOR)
@api_doc("The Ministry's monthly report: every figure beside the previous month's", tags=TAGS,
         query={"month": {"type": "string", "pattern": r"^\d{4}-\d{2}$",
                          "description": "2017-10 (a Buddhist-era year, 2560-10, works too); "
                                         "default: the current month"},
                "format": _FORMAT, "lang": _LANG})
async def monthly_report(request: web.Request) -> web.StreamResponse:
    services = request.app[REPORTS]
    month = _month(request, services.tz)
    document = await services.monthly.execute(month)
    return await _respond(request, document, f"line1300-monthly-{month.iso()}")


@require(Role.SUPERVISOR)
@api_doc("The provincial report: one province's contacts by district, channel, group, sex, "
         "problem", tags=TAGS,
         query={"province": {"type": "string", "description": "taxonomy id, e.g. TH-54"},
                "from": _DATE, "to": _DATE, "format": _FORMAT, "lang": _LANG})
async def provincial_report(request: web.Request) -> web.StreamResponse:
    services = request.app[REPORTS]
    province = request.query.get("province", "").strip()
    if not province:
        raise json_error(web.HTTPBadRequest, "missing query parameter", fields=["province"])
    period = _range(request, services.tz)
    try:
        document = await services.provincial.execute(province, period)
    except UnknownProvince as exc:
        raise json_error(web.HTTPBadRequest, str(exc), known=list(exc.known)) from None
    name = f"line1300-{province}-{period.start.isoformat()}-{period.end.isoformat()}"
    return await _respond(request, document, name)


@require(Role.SUPERVISOR)
@api_doc("Queue and agent KPIs (definitions in reports/KPIS.md)", tags=TAGS,
         query={"from": _DATE, "to": _DATE, "shift": {"type": "string"},
                "language": {"type": "string"}, "queue": {"type": "string"},
                "format": {"type": "string", "enum": ["json", "csv"], "default": "json"}})
async def kpi_report(request: web.Request) -> web.StreamResponse:
    services = request.app[REPORTS]
    kpi_filter = KpiFilter(
        _range(request, services.tz), shift=_optional(request, "shift"),
        language=_optional(request, "language"), queue=_optional(request, "queue"),
    )
    try:
        report = await services.kpis.execute(kpi_filter)
    except KpiError as exc:
        raise json_error(web.HTTPBadRequest, str(exc), **exc.details) from None
    if _format(request, ("json", "csv")) == "csv":
        name = f"line1300-kpis-{kpi_filter.period.start}-{kpi_filter.period.end}.csv"
        return _download(kpis_to_csv(report), "text/csv; charset=utf-8", name)
    return web.json_response(report.as_json())


@require(Role.SUPERVISOR)
@api_doc("What the report pages' selectors offer: shifts, languages, queues, provinces",
         tags=TAGS)
async def report_options(request: web.Request) -> web.Response:
    services = request.app[REPORTS]
    shifts = await services.kpis.shifts()
    today = datetime.now(UTC).astimezone(services.tz).date()
    return web.json_response({
        "current_month": Month(today.year, today.month).iso(),
        "today": today.isoformat(),
        "service_level_seconds": services.kpis.threshold,
        "shifts": [s.as_json() for s in shifts],
        "languages": [{"code": lang.code, "name_en": lang.name_en, "name_native": lang.name_native}
                      for lang in services.definition.languages.values()],
        "queues": [{"name": q.name, "language": q.language, "description": q.description}
                   for q in services.definition.queues],
        "provinces": [{"id": p.id, "th": p.th, "en": p.en} for p in services.taxonomy.provinces],
    })


@require(Role.SUPERVISOR)
@api_doc("The wallboard now: queues, agents by state and language, today, coverage", tags=TAGS)
async def wallboard_state(request: web.Request) -> web.Response:
    return web.json_response(await request.app[WALLBOARD_FEED].board())


@require(Role.SUPERVISOR)
async def wallboard_socket(request: web.Request) -> web.StreamResponse:
    """Pushes the board on every change; the page reconnects by itself (closed 1001 on shutdown)."""
    ws = web.WebSocketResponse(heartbeat=30.0)
    if not ws.can_prepare(request).ok:
        raise json_error(web.HTTPBadRequest, "this endpoint is a WebSocket: connect with "
                         "'Connection: Upgrade' and 'Upgrade: websocket'")
    await ws.prepare(request)
    await request.app[WALLBOARD_HUB].serve(ws, current_user(request).username)
    return ws


async def _respond(request: web.Request, document: ReportDocument, name: str) -> web.StreamResponse:
    kind = _format(request, FORMATS)
    if kind == "csv":
        return _download(to_csv(document), "text/csv; charset=utf-8", f"{name}.csv")
    if kind == "pdf":
        lang = _lang(request)
        generated = datetime.now(UTC).astimezone(request.app[REPORTS].tz)
        # Laying out pages takes a few hundred milliseconds: not on the event loop.
        pdf = await asyncio.to_thread(_pdf, document, lang, generated)
        return _download(pdf, "application/pdf", f"{name}-{lang}.pdf")
    return web.json_response(document.as_json())


def _pdf(document: ReportDocument, lang: Lang, generated: datetime) -> bytes:
    # fpdf and its font tools (fontTools, HarfBuzz, Pillow: about 25 MB) are loaded with the
    # first PDF asked for, not at start-up: most controllers never lay out a PDF.
    from reports.render.pdf_export import to_pdf

    return to_pdf(document, lang, generated)


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(body=body, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


def _month(request: web.Request, tz: ZoneInfo) -> Month:
    text = request.query.get("month", "").strip()
    if not text:
        return Month.containing(datetime.now(UTC), tz)
    try:
        return Month.parse(text)
    except PeriodError as exc:
        raise json_error(
            web.HTTPBadRequest, str(exc), parameter="month", example="2017-10"
        ) from None


def _range(request: web.Request, tz: ZoneInfo) -> DateRange:
    today = datetime.now(UTC).astimezone(tz).date().isoformat()
    start, end = request.query.get("from", today), request.query.get("to", today)
    try:
        period = DateRange.parse(start, end)
    except PeriodError as exc:
        raise json_error(web.HTTPBadRequest, str(exc), parameters=["from", "to"],
                         example="2024-02-01") from None
    if period.days > MAX_RANGE_DAYS:
        raise json_error(web.HTTPBadRequest, "the date range is too long for a report",
                         days=period.days, max_days=MAX_RANGE_DAYS)
    return period


def _format(request: web.Request, allowed: tuple[str, ...]) -> str:
    kind = request.query.get("format", "json").lower()
    if kind not in allowed:
        raise json_error(web.HTTPBadRequest, "unknown format", format=kind, allowed=list(allowed))
    return kind


def _lang(request: web.Request) -> Lang:
    lang = request.query.get("lang", "th").lower()
    if lang == "en":
        return "en"
    if lang != "th":
        raise json_error(web.HTTPBadRequest, "unknown language", lang=lang, allowed=list(LANGS))
    return "th"


def _optional(request: web.Request, name: str) -> str | None:
    return request.query.get(name, "").strip() or None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports", page("report.html", Role.SUPERVISOR))
    app.router.add_get("/reports/monthly", page("report.html", Role.SUPERVISOR))
    app.router.add_get("/wallboard", page("wallboard.html", Role.SUPERVISOR))
    app.router.add_get("/api/reports/monthly", monthly_report)
    app.router.add_get("/api/reports/provincial", provincial_report)
    app.router.add_get("/api/reports/kpis", kpi_report)
    app.router.add_get("/api/reports/options", report_options)
    app.router.add_get("/api/wallboard", wallboard_state)
    app.router.add_get("/ws/wallboard", wallboard_socket)
