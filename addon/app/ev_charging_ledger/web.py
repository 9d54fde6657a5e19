"""The ingress web UI: server-rendered HTML pages over the ledger and its JSON API.

Every page works behind Home Assistant's ingress proxy, which serves the add-on under
``/api/hassio_ingress/<token>/`` and names that prefix in the ``X-Ingress-Path`` header:
all links, form targets and script URLs are built from it. Pages are plain HTML with
server-rendered SVG charts; a small script (``static/app.js``) sends the forms to the
JSON API, so every rule of the API (validation, admin checks) applies to the UI too.
Non-admin users see only their own person's data, checked here as in the API.

Pages: ``/`` dashboard, ``/sessions`` (filters, keyset pagination), ``/sessions/{id}``,
``/statements`` and ``/statements/{person}/{month}``, ``/manual`` (external session),
``/manage`` (people, vehicles, credentials, rates; admin), ``/reports`` (payroll,
monthly workbook, evcc import; admin), ``/integrity``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup

from ev_charging_ledger import evidence, i18n, params
from ev_charging_ledger.access import Identity
from ev_charging_ledger.http_context import (
    CSRF_KEY,
    LEDGER_KEY,
    REPORTS_KEY,
    STATUS_KEY,
    BadRequestError,
)
from ev_charging_ledger.http_context import forbidden as _forbidden
from ev_charging_ledger.http_context import identity as _identity
from ev_charging_ledger.http_context import own_person_id as _own_person_id
from ev_charging_ledger.http_context import parse_month as _month
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports.wording import Wording
from ev_charging_ledger.storage import Ledger, NotFoundError, SessionFilter
from ev_charging_ledger.ui import charts
from ev_charging_ledger.ui import dashboard as dashboard_data

PAGE_SIZE = 50
_INGRESS_PATH = re.compile(r"^(/[A-Za-z0-9_.~-]+)*$")
_TEMPLATES = Path(__file__).parent / "ui" / "templates"
_STATIC = Path(__file__).parent / "ui" / "static"
ENV_KEY = web.AppKey("jinja", jinja2.Environment)
# The pricing problems the rates module names, as text keys.
_PROBLEMS = {"no rate applies": "problem_no_rate", "price missing": "problem_price_missing"}

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[ENV_KEY] = env
    app.add_routes(routes)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class Page:
    """What every template gets: who, which language, where the UI lives."""

    request: web.Request
    identity: Identity
    lang: str
    base: str
    own_person_id: int | None

    @property
    def csrf(self) -> str | None:
        """The login session's CSRF token (None behind ingress or with a bearer token)."""
        return self.request.get(CSRF_KEY)

    def t(self, key: str, **values: Any) -> str:
        text = i18n.text(self.lang, key)
        return text.format(**values) if values else text

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def n(self, value: Decimal | float | int | None, places: int | None = None) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            value = Decimal(str(value))
        return i18n.number(value, self.lang, places)

    def kwh(self, wh: Decimal | str | None) -> str:
        if wh is None:
            return ""
        return self.n(Decimal(wh) / 1000, 3)

    def when(
        self,
        moment: datetime | str | None,
        zone: str | ZoneInfo | None = None,
        *,
        date_only: bool = False,
    ) -> str:
        """A stored instant (ISO text or datetime) in the home time zone, for people."""
        if moment is None or moment == "":
            return ""
        home = zone or self.request.app[REPORTS_KEY].time_zone
        if isinstance(moment, str):
            moment = _local(moment, home)
        elif moment.tzinfo is not None and zone is not None:
            moment = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
        return i18n.local_time(moment, self.lang, date_only=date_only)

    def money(self, amount: Decimal | str | None, currency: str | None) -> str:
        if amount is None or amount == "":
            return ""
        return f"{self.n(Decimal(amount), 2)} {currency or ''}".strip()

    def basis(self, basis: str | None) -> str:
        return self.t(f"basis_{basis}") if basis else ""

    def direction(self, direction: str | None) -> str:
        return self.t(f"direction_{direction}") if direction else ""

    def problem(self, problem: str | None) -> str:
        key = _PROBLEMS.get(problem or "")
        return self.t(key) if key else (problem or "")

    def mid(self, mid: bool | None) -> str:
        if mid is None:
            return self.t("mid_none")
        return self.t("mid_true" if mid else "mid_false")


def ingress_base(request: web.Request) -> str:
    prefix = request.headers.get("X-Ingress-Path", "").rstrip("/")
    return prefix if _INGRESS_PATH.match(prefix) else ""


async def _page(request: web.Request) -> Page:
    identity = _identity(request)
    lang = i18n.language(request.query.get("lang") or request.headers.get("Accept-Language"))
    own = None if identity.is_admin else await _own_person_id(request)
    if identity.is_admin and identity.user_id is not None:
        own = await _own_person_id(request)
    return Page(request, identity, lang, ingress_base(request), own)


def _render(page: Page, template: str, **context: Any) -> web.Response:
    env = page.request.app[ENV_KEY]
    html = env.get_template(template).render(page=page, t=page.t, url=page.url, **context)
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def render_login(
    request: web.Request, *, start: str, home_assistant: str, error: str | None
) -> web.Response:
    """The page a browser without a login sees: one button to Home Assistant."""
    lang = i18n.language(request.query.get("lang") or request.headers.get("Accept-Language"))

    def t(key: str, **values: Any) -> str:
        text = i18n.text(lang, key)
        return text.format(**values) if values else text

    html = (
        request.app[ENV_KEY]
        .get_template("login.html")
        .render(lang=lang, t=t, start=start, home_assistant=home_assistant, error=error)
    )
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _require_admin_page(page: Page) -> None:
    if not page.identity.is_admin:
        raise web.HTTPForbidden(
            text='{"error": "administrators only"}', content_type="application/json"
        )


def _check_person(page: Page, person_id: int | None) -> None:
    if page.identity.is_admin:
        return
    if page.own_person_id is None or person_id != page.own_person_id:
        raise _forbidden("you may only see your own sessions and statements")


def _zone(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[REPORTS_KEY].time_zone)


def _local(text: str, zone: str | ZoneInfo) -> datetime:
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(tz)


def _query_id(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "")
    return params.positive_id(text, name) if text else None


def _query_date(request: web.Request, name: str) -> date | None:
    text = request.query.get(name, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise BadRequestError(f"{name} must be a date YYYY-MM-DD") from err


def _shift_month(month: str, delta: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _names(ledger: Ledger) -> tuple[dict[int, str], dict[int, str]]:
    people = {person.id: person.name for person in ledger.people()}
    vehicles = {
        vehicle.id: f"{vehicle.name} ({vehicle.plate})" if vehicle.plate else vehicle.name
        for vehicle in ledger.vehicles()
    }
    return people, vehicles


# ------------------------------------------------------------------------ static files


@routes.get("/static/{name}")
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {".css": "text/css", ".js": "application/javascript"}
    suffix = Path(name).suffix
    if suffix not in types or "/" in name or name.startswith("."):
        raise NotFoundError("no such file")
    path = _STATIC / name
    if not path.is_file():
        raise NotFoundError("no such file")
    response = web.Response(body=path.read_bytes(), content_type=types[suffix])
    response.headers["Cache-Control"] = "max-age=3600"
    return response


# ------------------------------------------------------------------------- dashboard


@routes.get("/")
async def dashboard(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    scoped = not page.identity.is_admin
    zone = _zone(request)
    data = await asyncio.to_thread(
        dashboard_data.build, ledger, page.own_person_id, scoped, zone, datetime.now(UTC)
    )
    short = [dashboard_data.month_label(m, page.lang) for m in data.months]
    long = [dashboard_data.month_label(m, page.lang, with_year=True) for m in data.months]
    energy_chart = charts.BarChart(
        chart_id="energy-chart",
        title=f"{page.t('energy')} ({long[0]} - {long[-1]})",
        labels=short,
        long_labels=long,
        values=data.energy_kwh,
        unit="kWh",
        empty=page.t("chart_empty"),
    )
    cost_chart = charts.BarChart(
        chart_id="cost-chart",
        title=f"{page.t('tariff_cost')} ({long[0]} - {long[-1]})",
        labels=short,
        long_labels=long,
        values=data.cost,
        unit=data.currency,
        empty=page.t("chart_empty_cost"),
        color="#2f9e44",
    )
    heat = charts.Heatmap(
        chart_id="heatmap",
        title=page.t("heatmap"),
        counts=data.heat,
        weekdays=[page.t(f"weekday_{day}") for day in range(7)],
        cell_text=page.t("heatmap_cell"),
        empty=page.t("heatmap_empty"),
    )
    month_from = dashboard_data.month_start(data.month, zone)
    month_to = dashboard_data.month_start(dashboard_data.shift_month(data.month, 1), zone)
    assign_query = urlencode(
        {
            "from": f"{month_from:%Y-%m-%d}",
            "to": f"{month_to - timedelta(days=1):%Y-%m-%d}",
            "lang": page.lang,
        }
    )
    return _render(
        page,
        "dashboard.html",
        data=data,
        month_name=long[-1],
        assign_url=page.url(f"/sessions?{assign_query}#bulk-form"),
        energy_chart=Markup(charts.bar_chart(energy_chart, page.n)),
        cost_chart=Markup(charts.bar_chart(cost_chart, page.n)),
        heatmap=Markup(charts.heatmap(heat)),
    )


# -------------------------------------------------------------------------- sessions


@routes.get("/sessions")
async def sessions_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    zone = _zone(request)
    person_id = _query_id(request, "person_id")
    if not page.identity.is_admin:
        if person_id is not None and person_id != page.own_person_id:
            raise _forbidden("you may only see your own sessions")
        person_id = page.own_person_id
    vehicle_id = _query_id(request, "vehicle_id")
    charger = request.query.get("charger") or None
    day_from, day_to = _query_date(request, "from"), _query_date(request, "to")
    where = SessionFilter(
        person_id=person_id,
        vehicle_id=vehicle_id,
        charger_serial=charger,
        started_from=params.day_bound(day_from, "from", zone),
        started_before=params.day_bound(day_to, "to", zone),
        awaiting_approval=request.query.get("awaiting_approval") == "true",
    )
    cursor = params.cursor(request.query.get("cursor"))

    def load() -> dict[str, Any]:
        if not page.identity.is_admin and person_id is None:
            items, next_cursor = [], None
        else:
            result = ledger.sessions(where, limit=PAGE_SIZE, cursor=cursor)
            items, next_cursor = result.items, result.next_cursor
        people, vehicles = _names(ledger)
        chargers = ledger.chargers()
        return {
            "items": items,
            "next_cursor": next_cursor,
            "people": people,
            "vehicles": vehicles,
            "chargers": chargers,
        }

    data = await asyncio.to_thread(load)
    if not page.identity.is_admin:
        own_vehicles = {v.id for v in ledger.vehicles() if v.person_id == page.own_person_id}
        data["people"] = {k: v for k, v in data["people"].items() if k == page.own_person_id}
        data["vehicles"] = {k: v for k, v in data["vehicles"].items() if k in own_vehicles}
    filters = {
        key: request.query.get(key, "")
        for key in ("person_id", "vehicle_id", "charger", "from", "to", "awaiting_approval")
    }
    query = "&".join(f"{key}={value}" for key, value in filters.items() if value)
    # The same filter for the API (instants instead of local days), for the bulk assignment.
    bulk = {
        "vehicle_id": str(vehicle_id) if vehicle_id else None,
        "charger": charger,
        "from": where.started_from.isoformat() if where.started_from else None,
        "to": where.started_before.isoformat() if where.started_before else None,
    }
    bulk_query = urlencode({key: value for key, value in bulk.items() if value})
    rows = [
        {
            "item": item,
            "start": _local(item.started_at, item.time_zone),
            "end": _local(item.ended_at, item.time_zone),
        }
        for item in data["items"]
    ]
    return _render(
        page,
        "sessions.html",
        rows=rows,
        filters=filters,
        query=query,
        export_query=query,
        bulk_query=bulk_query,
        **{k: v for k, v in data.items() if k != "items"},
    )


@routes.get("/sessions/{session_id}")
async def session_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    detail = await asyncio.to_thread(ledger.session, request.match_info["session_id"])
    if detail is None:
        raise NotFoundError("no such session")
    _check_person(page, detail.state.person_id)
    people, vehicles = await asyncio.to_thread(_names, ledger)
    record = detail.record
    zone = detail.summary.time_zone
    intervals = [
        {
            **interval,
            "start_local": _local(interval["start"], zone) if interval.get("start") else None,
            "end_local": _local(interval["end"], zone) if interval.get("end") else None,
        }
        for interval in (record.get("cost") or {}).get("intervals") or []
        if isinstance(interval, dict)
    ]
    return _render(
        page,
        "session.html",
        detail=detail,
        record=record,
        start=_local(detail.summary.started_at, zone),
        end=_local(detail.summary.ended_at, zone),
        intervals=intervals,
        ocmf=detail.evidence.get("ocmf"),
        evidence_label=evidence.LABELS.get(detail.summary.evidence_class, ""),
        people=people,
        vehicles=vehicles,
    )


# ------------------------------------------------------------------------ statements


@routes.get("/statements")
async def statements_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    person_id = _query_id(request, "person_id")
    month = request.query.get("month")
    if person_id is not None and month:
        raise web.HTTPFound(page.url(f"/statements/{person_id}/{_month(month)}"))
    people = await asyncio.to_thread(ledger.people)
    if not page.identity.is_admin:
        people = [person for person in people if person.id == page.own_person_id]
    current = f"{datetime.now(_zone(request)):%Y-%m}"
    return _render(
        page,
        "statements.html",
        people=people,
        current=current,
        previous=_shift_month(current, -1),
    )


@routes.get("/statements/{person_id}/{month}")
async def statement_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    person_id = params.positive_id(request.match_info["person_id"], "person_id")
    month = _month(request.match_info["month"])
    _check_person(page, person_id)
    vehicle_id = _query_id(request, "vehicle_id")
    document = await asyncio.to_thread(
        lambda: statement_document.build(
            ledger,
            person_id,
            month,
            vehicle_id=vehicle_id,
            home_zone=request.app[REPORTS_KEY].time_zone,
        )
    )
    vehicle_query = f"&vehicle_id={vehicle_id}" if vehicle_id else ""
    return _render(
        page,
        "statement.html",
        doc=document,
        say=Wording(document, page.lang),
        export=page.url(f"/api/statements/{person_id}/{month}/export?lang={page.lang}")
        + vehicle_query,
        previous=_shift_month(month, -1),
        following=_shift_month(month, 1),
    )


# ------------------------------------------------------------- forms (admin, manual)


@routes.get("/manual")
async def manual_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    people = await asyncio.to_thread(ledger.people)
    vehicles = await asyncio.to_thread(ledger.vehicles)
    if not page.identity.is_admin:
        people = [p for p in people if p.id == page.own_person_id]
        vehicles = [v for v in vehicles if v.person_id == page.own_person_id]
    return _render(
        page,
        "manual.html",
        people=people,
        vehicles=vehicles,
        time_zone=request.app[REPORTS_KEY].time_zone,
    )


@routes.get("/manage")
async def manage_page(request: web.Request) -> web.Response:
    page = await _page(request)
    _require_admin_page(page)
    ledger = request.app[LEDGER_KEY]

    def load() -> dict[str, Any]:
        return {
            "people": ledger.people(),
            "vehicles": ledger.vehicles(),
            "credentials": ledger.credentials(),
            "rates": ledger.rates(),
            "flat_prices": ledger.flat_prices(),
        }

    data = await asyncio.to_thread(load)
    names, vehicle_names = await asyncio.to_thread(_names, ledger)
    return _render(page, "manage.html", names=names, vehicle_names=vehicle_names, **data)


@routes.get("/reports")
async def reports_page(request: web.Request) -> web.Response:
    page = await _page(request)
    _require_admin_page(page)
    ledger = request.app[LEDGER_KEY]
    settings = request.app[REPORTS_KEY]
    month = request.query.get("month") or _shift_month(f"{datetime.now(_zone(request)):%Y-%m}", -1)
    month = _month(month)
    return _render(
        page,
        "reports.html",
        month=month,
        payroll=settings.payroll,
        people=await asyncio.to_thread(ledger.people),
        vehicles=await asyncio.to_thread(ledger.vehicles),
        time_zone=settings.time_zone,
    )


@routes.get("/integrity")
async def integrity_page(request: web.Request) -> web.Response:
    page = await _page(request)
    ledger = request.app[LEDGER_KEY]
    status = await asyncio.to_thread(ledger.status)
    # Gaps say why in the reader's language (older ones in the English they were stored in).
    status["gaps"] = [{**gap, "reason": i18n.gap_reason(page.lang, gap)} for gap in status["gaps"]]
    return _render(page, "integrity.html", status=status, ingest=request.app[STATUS_KEY].as_json())
