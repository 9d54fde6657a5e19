"""The JSON API (described by ``openapi.json`` next to this file).

Every rejection is a 4xx with ``{"error": "..."}``. Non-admin users only ever see
their own person's sessions and statements; the checks live in the handlers that hand
out data, next to the query they guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from ev_charging_ledger import i18n, params, spec
from ev_charging_ledger import web as ledger_web
from ev_charging_ledger.access import IDENTITY_KEY, AccessPolicy
from ev_charging_ledger.http_context import LEDGER_KEY, REPORTS_KEY, STATUS_KEY
from ev_charging_ledger.http_context import check_person_access as _check_person_access
from ev_charging_ledger.http_context import forbidden as _forbidden
from ev_charging_ledger.http_context import identity as _identity
from ev_charging_ledger.http_context import own_person_id as _own_person_id
from ev_charging_ledger.http_context import parse_month as _month
from ev_charging_ledger.http_context import require_admin as _require_admin
from ev_charging_ledger.ingest import IngestStatus
from ev_charging_ledger.login import LOGIN_PATHS
from ev_charging_ledger.params import BadRequestError, UnprocessableError
from ev_charging_ledger.records import RecordError, parse_utc
from ev_charging_ledger.reports import document as statement_document
from ev_charging_ledger.reports import evcc
from ev_charging_ledger.reports.pdf import statement_pdf
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.reports.tabular import (
    PayrollSettings,
    payroll_csv,
    sessions_csv,
    statement_csv,
)
from ev_charging_ledger.reports.xlsx import statement_xlsx
from ev_charging_ledger.storage import Ledger, LedgerError, NotFoundError, SessionFilter

LOGGER = logging.getLogger(__name__)
PUBLIC_PATHS = frozenset({"/health", "/api/openapi.json"})
MAX_BODY = 64 * 1024
MAX_URL = 32 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as err:
        if err.status < 400 or (err.text or "").startswith('{"error"'):
            raise
        response = _error(err.status, err.reason)
        if "Allow" in err.headers:
            response.headers["Allow"] = err.headers["Allow"]
        return response
    except spec.SchemaViolation as err:
        return _error(400, str(err))
    except BadRequestError as err:
        return _error(err.status, str(err))
    except NotFoundError as err:
        return _error(404, str(err))
    except LedgerError as err:
        return _error(_ledger_status(err), str(err))
    except (RecordError, evcc.EvccImportError) as err:
        return _error(422, str(err))


def _ledger_status(err: LedgerError) -> int:
    """The request was well formed (checked against the document first), so what the
    ledger refuses is about the values: unprocessable, or in conflict with what it
    holds (a unique code or user taken), or naming something that is not there."""
    cause = err.__cause__
    if isinstance(cause, sqlite3.IntegrityError):
        if "UNIQUE" in str(cause):
            return 409
        if "FOREIGN KEY" in str(cause):
            return 404
    return 422


BODY_KEY = web.RequestKey("body", dict)


@web.middleware
async def contract_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check parameters and JSON bodies against openapi.json before any handler runs."""
    resource = request.match_info.route.resource
    document = spec.document()
    operation = None
    if resource is not None:
        operation = document.operations.get((request.method, resource.canonical))
    if operation is None:
        return await handler(request)
    for parameter in operation.parameters:
        source = request.match_info if parameter.location == "path" else request.query
        text = source.get(parameter.name)
        if text is None:
            if parameter.required:
                raise spec.SchemaViolation(f"{parameter.name} is required")
            continue
        document.check_parameter(parameter, text)
    if operation.body is not None and "application/json" in operation.body:
        body = await _read_json(request, required=operation.body_required)
        document.check(operation.body["application/json"], body, "body")
        request[BODY_KEY] = body
    return await handler(request)


async def _read_json(request: web.Request, *, required: bool) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _too_large(f"the request body is larger than {MAX_BODY // 1024} KB")
    raw = await request.read()
    if not raw.strip() and not required:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise BadRequestError("request body must be JSON (UTF-8)") from err
    if not isinstance(data, dict):
        raise BadRequestError("request body must be a JSON object")
    return data


def _too_large(message: str) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=MAX_BODY,
        actual_size=0,
        text=json.dumps({"error": message}),
        content_type="application/json",
    )


def access_middleware(policy: AccessPolicy) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The login's own pages and the style sheet of its page need no identity.
        public = request.path in PUBLIC_PATHS or request.path in LOGIN_PATHS
        if not public and not request.path.startswith("/static/"):
            request[IDENTITY_KEY] = await policy.identify(request)
        return await handler(request)

    return middleware


# ------------------------------------------------------------------ parsing helpers


def _query_int(request: web.Request, name: str, *, low: int, high: int) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError as err:
        raise BadRequestError(f"{name} must be an integer") from err
    if not low <= value <= high:
        raise BadRequestError(f"{name} must be between {low} and {high}")
    return value


def _query_time(request: web.Request, name: params.Bound) -> datetime | None:
    return params.time_bound(request.query.get(name), name)


def _path_int(request: web.Request, name: str) -> int:
    return params.positive_id(request.match_info[name], name)


async def _body(request: web.Request) -> dict[str, Any]:
    body = request.get(BODY_KEY)
    if body is None:
        body = await _read_json(request, required=True)
    return body


def _str(body: dict[str, Any], name: str, *, required: bool = True, max_len: int = 500) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise UnprocessableError(f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise UnprocessableError(f"{name} must be a string of at most {max_len} characters")
    if required and not value.strip():
        raise UnprocessableError(f"{name} must not be empty")
    return value


def _int(body: dict[str, Any], name: str, *, required: bool = False) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise UnprocessableError(f"{name} is required")
        return None
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # 2066.0 is an integer in JSON
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**62:
        raise UnprocessableError(f"{name} must be a positive integer")
    return value


def _decimal(body: dict[str, Any], name: str, *, required: bool = True) -> Decimal | None:
    value = body.get(name)
    if value is None:
        if required:
            raise UnprocessableError(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise UnprocessableError(f"{name} must be a decimal string or number")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError) as err:
        raise UnprocessableError(f"{name} is not a decimal number") from err
    if not number.is_finite() or number < 0 or number > Decimal("1e12"):
        raise UnprocessableError(f"{name} must be between 0 and 1e12")
    return number


def _date(body: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    value = _str(body, name, required=required, max_len=10)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise UnprocessableError(f"{name} must be a date YYYY-MM-DD") from err


def _time(body: dict[str, Any], name: str) -> datetime:
    value = _str(body, name, max_len=40)
    try:
        return parse_utc(value, name)
    except RecordError as err:
        raise UnprocessableError(str(err)) from err
    except OverflowError as err:
        raise UnprocessableError(f"{name} is out of range") from err


# ------------------------------------------------------------------------ handlers

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    # 200 either way: a restart would not free the disk, and ingest resumes on its own.
    return web.json_response(request.app[STATUS_KEY].health())


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    text = resources.files("ev_charging_ledger").joinpath("openapi.json").read_text("utf-8")
    return web.Response(text=text, content_type="application/json")


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    identity = _identity(request)
    person = None
    if identity.user_id is not None:
        found = await asyncio.to_thread(request.app[LEDGER_KEY].person_for_user, identity.user_id)
        person = None if found is None else found.as_json()
    return web.json_response({**identity.as_json(), "person": person})


@routes.get("/api/status")
async def status(request: web.Request) -> web.Response:
    ledger_status = await asyncio.to_thread(request.app[LEDGER_KEY].status)
    return web.json_response({"ledger": ledger_status, "ingest": request.app[STATUS_KEY].as_json()})


@routes.get("/api/verify")
async def verify(request: web.Request) -> web.Response:
    _require_admin(request)
    report = await asyncio.to_thread(request.app[LEDGER_KEY].verify)
    body = report.as_json()
    # Each failure also says why in the reader's language, like the integrity page.
    lang = _lang(request)
    for failure in body["ocmf_failures"]:
        failure["reason"] = i18n.ocmf_failure(lang, failure)
    body["ocmf_summary"] = i18n.text(lang, "ocmf_checked").format(count=report.ocmf_checked)
    return web.json_response(body)


@routes.get("/api/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    person_id = _query_int(request, "person_id", low=1, high=2**62)
    if not _identity(request).is_admin:
        own = await _own_person_id(request)
        if person_id is not None and person_id != own:
            raise _forbidden("you may only see your own sessions")
        if own is None:
            return web.json_response({"items": [], "next_cursor": None})
        person_id = own
    where = SessionFilter(
        person_id=person_id,
        vehicle_id=_query_int(request, "vehicle_id", low=1, high=2**62),
        charger_serial=request.query.get("charger"),
        started_from=_query_time(request, "from"),
        started_before=_query_time(request, "to"),
        awaiting_approval=request.query.get("awaiting_approval") == "true",
    )
    limit = _query_int(request, "limit", low=1, high=1000) or 50
    page = await asyncio.to_thread(
        request.app[LEDGER_KEY].sessions,
        where,
        limit=limit,
        cursor=params.cursor(request.query.get("cursor")),
    )
    return web.json_response(
        {"items": [item.as_json() for item in page.items], "next_cursor": page.next_cursor}
    )


@routes.get("/api/sessions/{session_id}")
async def get_session(request: web.Request) -> web.Response:
    detail = await asyncio.to_thread(
        request.app[LEDGER_KEY].session, request.match_info["session_id"]
    )
    if detail is None:
        raise NotFoundError("no such session")
    await _check_person_access(request, detail.state.person_id)
    return web.json_response(detail.as_json())


@routes.post("/api/sessions/{session_id}/adjustments")
async def add_adjustment(request: web.Request) -> web.Response:
    identity = _require_admin(request)
    body = await _body(request)
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise BadRequestError("data must be an object")
    if data is not None:
        for name in ("person_id", "vehicle_id"):
            _int(data, name)  # a reassignment names people and vehicles by their ids
    adjustment = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_adjustment,
        request.match_info["session_id"],
        _str(body, "kind", max_len=40),
        reason=_str(body, "reason", max_len=2000),
        author=identity.name,
        data=data,
    )
    return web.json_response(adjustment.as_json(), status=201)


@routes.post("/api/manual_sessions")
async def add_manual_session(request: web.Request) -> web.Response:
    identity = _identity(request)
    body = await _body(request)
    ledger = request.app[LEDGER_KEY]
    person_id = _int(body, "person_id")
    vehicle_id = _int(body, "vehicle_id")
    if not identity.is_admin:
        own = await _own_person_id(request)
        if own is None or person_id not in (None, own):
            raise _forbidden("you may only enter sessions for yourself")
        person_id = own
        if vehicle_id is not None:
            vehicle = await asyncio.to_thread(ledger.vehicle, vehicle_id)
            if vehicle is None or vehicle.person_id != own:
                raise _forbidden("you may only enter sessions on your own vehicle")
    started, ended = _time(body, "started_at"), _time(body, "ended_at")
    if ended < started:
        raise UnprocessableError("ended_at is before started_at")
    energy = _decimal(body, "energy_wh")
    assert energy is not None
    pending = not identity.is_admin
    session_id = await asyncio.to_thread(
        ledger.add_manual_session,
        author=identity.name,
        started_at=started,
        ended_at=ended,
        energy_wh=energy,
        cost_total=_decimal(body, "cost_total", required=False),
        currency=_str(body, "currency", max_len=3),
        time_zone=_str(body, "time_zone", max_len=60),
        person_id=person_id,
        vehicle_id=vehicle_id,
        location=_str(body, "location", max_len=200),
        note=_str(body, "note", required=False, max_len=2000),
        pending_approval=pending,
    )
    return web.json_response(
        {"session_id": session_id, "approval": "pending" if pending else "not needed"},
        status=201,
    )


@routes.get("/api/people")
async def list_people(request: web.Request) -> web.Response:
    ledger = request.app[LEDGER_KEY]
    people = await asyncio.to_thread(ledger.people)
    if not _identity(request).is_admin:
        own = await _own_person_id(request)
        people = [person for person in people if person.id == own]
    return web.json_response([person.as_json() for person in people])


@routes.post("/api/people")
async def add_person(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    person = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_person,
        _str(body, "name", max_len=200),
        personnel_number=_str(body, "personnel_number", required=False, max_len=50),
        ha_user_id=_str(body, "ha_user_id", required=False, max_len=100),
        cost_centre_id=_int(body, "cost_centre_id"),
        country=_str(body, "country", required=False, max_len=2) or "DE",
    )
    return web.json_response(person.as_json(), status=201)


@routes.get("/api/vehicles")
async def list_vehicles(request: web.Request) -> web.Response:
    vehicles = await asyncio.to_thread(request.app[LEDGER_KEY].vehicles)
    if not _identity(request).is_admin:
        own = await _own_person_id(request)
        vehicles = [vehicle for vehicle in vehicles if own is not None and vehicle.person_id == own]
    return web.json_response([vehicle.as_json() for vehicle in vehicles])


@routes.post("/api/vehicles")
async def add_vehicle(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    company_car = body.get("company_car", True)
    if not isinstance(company_car, bool):
        raise BadRequestError("company_car must be true or false")
    vehicle = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_vehicle,
        _str(body, "name", max_len=200),
        plate=_str(body, "plate", required=False, max_len=20),
        person_id=_int(body, "person_id"),
        company_car=company_car,
        cost_centre_id=_int(body, "cost_centre_id"),
    )
    return web.json_response(vehicle.as_json(), status=201)


@routes.get("/api/cost_centres")
async def list_cost_centres(request: web.Request) -> web.Response:
    _require_admin(request)
    return web.json_response(await asyncio.to_thread(request.app[LEDGER_KEY].cost_centres))


@routes.post("/api/cost_centres")
async def add_cost_centre(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    centre_id = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_cost_centre,
        _str(body, "code", max_len=50),
        _str(body, "name", max_len=200),
    )
    return web.json_response({"id": centre_id}, status=201)


@routes.get("/api/credentials")
async def list_credentials(request: web.Request) -> web.Response:
    _require_admin(request)
    return web.json_response(await asyncio.to_thread(request.app[LEDGER_KEY].credentials))


@routes.put("/api/credentials/{tag_hash}")
async def set_credential(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    tag_hash = request.match_info["tag_hash"]
    if not 1 <= len(tag_hash) <= 128:
        raise BadRequestError("tag_hash must have 1 to 128 characters")
    await asyncio.to_thread(
        request.app[LEDGER_KEY].set_credential,
        tag_hash,
        person_id=_int(body, "person_id"),
        vehicle_id=_int(body, "vehicle_id"),
        label=_str(body, "label", required=False, max_len=200),
    )
    return web.json_response({"tag_hash": tag_hash})


@routes.get("/api/rates")
async def list_rates(request: web.Request) -> web.Response:
    _require_admin(request)
    rates = await asyncio.to_thread(request.app[LEDGER_KEY].rates)
    return web.json_response([rate.as_json() for rate in rates])


@routes.post("/api/rates")
async def add_rate(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    valid_from = _date(body, "valid_from")
    assert valid_from is not None
    rate, warnings = await asyncio.to_thread(
        lambda: request.app[LEDGER_KEY].add_rate(
            person_id=_int(body, "person_id"),
            vehicle_id=_int(body, "vehicle_id"),
            valid_from=valid_from,
            valid_to=_date(body, "valid_to", required=False),
            direction=_str(body, "direction", max_len=20),
            basis=_str(body, "basis", max_len=20),
            price_per_kwh=_decimal(body, "price_per_kwh", required=False),
            currency=_str(body, "currency", max_len=3),
            note=_str(body, "note", required=False, max_len=500),
        )
    )
    return web.json_response({"rate": rate.as_json(), "warnings": warnings}, status=201)


@routes.get("/api/flat_prices")
async def list_flat_prices(request: web.Request) -> web.Response:
    prices = await asyncio.to_thread(request.app[LEDGER_KEY].flat_prices)
    return web.json_response([price.as_json() for price in prices])


@routes.post("/api/flat_prices")
async def add_flat_price(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await _body(request)
    year = _int(body, "year", required=True)
    if not 2000 <= year <= 2200:
        raise BadRequestError("year must be between 2000 and 2200")
    price = _decimal(body, "price_per_kwh")
    assert price is not None
    flat = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_flat_price,
        year,
        _str(body, "country", max_len=2),
        price,
        _str(body, "currency", max_len=3),
        _str(body, "source", max_len=1000),
    )
    return web.json_response(flat.as_json(), status=201)


@routes.get("/api/statements/{person_id}/{month}")
async def statement(request: web.Request) -> web.Response:
    person_id = _path_int(request, "person_id")
    month = _month(request.match_info["month"])
    await _check_person_access(request, person_id)
    result = await asyncio.to_thread(request.app[LEDGER_KEY].statement, person_id, month)
    return web.json_response(result.as_json())


@routes.get("/api/people/{person_id}/totals/{year}")
async def totals(request: web.Request) -> web.Response:
    person_id = _path_int(request, "person_id")
    year = _path_int(request, "year")
    if not 2000 <= year <= 2200:
        raise BadRequestError("year must be between 2000 and 2200")
    await _check_person_access(request, person_id)
    ledger = request.app[LEDGER_KEY]
    if await asyncio.to_thread(ledger.person, person_id) is None:
        raise NotFoundError(f"no person {person_id}")
    months = await asyncio.to_thread(ledger.monthly_totals, person_id, year)
    return web.json_response([month.as_json() for month in months])


@routes.get("/api/retention")
async def get_retention(request: web.Request) -> web.Response:
    ledger = request.app[LEDGER_KEY]
    return web.json_response(
        {
            "years": await asyncio.to_thread(ledger.retention_years),
            "legal_hold": await asyncio.to_thread(ledger.legal_hold),
        }
    )


@routes.put("/api/retention")
async def set_retention(request: web.Request) -> web.Response:
    identity = _require_admin(request)
    body = await _body(request)
    ledger = request.app[LEDGER_KEY]
    years = _int(body, "years")
    if years is not None:
        if years > 100:
            raise BadRequestError("years must be between 1 and 100")
        await asyncio.to_thread(ledger.set_retention_years, years)
    hold = body.get("legal_hold")
    if hold is not None:
        if not isinstance(hold, bool):
            raise BadRequestError("legal_hold must be true or false")
        await asyncio.to_thread(
            lambda: ledger.set_legal_hold(
                active=hold, author=identity.name, reason=_str(body, "reason", max_len=2000)
            )
        )
    return web.json_response({"years": ledger.retention_years(), "legal_hold": ledger.legal_hold()})


# ------------------------------------------------------------------ reports, exports

EXPORT_FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "machine_csv": ("text/csv; charset=utf-8", "csv"),
}
MAX_IMPORT = 20 * 1024 * 1024


def _lang(request: web.Request) -> str:
    return i18n.language(request.query.get("lang") or request.headers.get("Accept-Language"))


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def render_statement(documents: list[Any], fmt: str, lang: str) -> bytes:
    if fmt == "pdf":
        return statement_pdf(documents, lang)
    if fmt == "xlsx":
        return statement_xlsx(documents, lang)
    return statement_csv(documents, "excel" if fmt == "csv" else "machine", lang)


@routes.get("/api/statements/{person_id}/{month}/export")
async def export_statement(request: web.Request) -> web.Response:
    person_id = _path_int(request, "person_id")
    month = _month(request.match_info["month"])
    fmt = request.query.get("format", "pdf")
    if fmt not in EXPORT_FORMATS:
        raise BadRequestError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    vehicle_id = _query_int(request, "vehicle_id", low=1, high=2**62)
    await _check_person_access(request, person_id)
    lang = _lang(request)
    ledger = request.app[LEDGER_KEY]
    home_zone = request.app[REPORTS_KEY].time_zone

    def build() -> tuple[bytes, str]:
        document = statement_document.build(
            ledger, person_id, month, vehicle_id=vehicle_id, home_zone=home_zone
        )
        return render_statement([document], fmt, lang), document.file_stem()

    body, stem = await asyncio.to_thread(build)
    content_type, extension = EXPORT_FORMATS[fmt]
    suffix = "-machine" if fmt == "machine_csv" else ""
    return _download(body, content_type, f"{stem}{suffix}.{extension}")


@routes.get("/api/statements/{person_id}/{month}/verify")
async def verify_statement(request: web.Request) -> web.Response:
    """Recompute the statement from the ledger and compare its content hash."""
    person_id = _path_int(request, "person_id")
    month = _month(request.match_info["month"])
    await _check_person_access(request, person_id)
    printed = request.query["hash"].lower()
    scope = request.query.get("vehicle", "all")
    ledger = request.app[LEDGER_KEY]
    if await asyncio.to_thread(ledger.person, person_id) is None:
        raise NotFoundError(f"no person {person_id}")
    document = await asyncio.to_thread(
        lambda: statement_document.build_scoped(
            ledger, person_id, month, scope, home_zone=request.app[REPORTS_KEY].time_zone
        )
    )
    return web.json_response(
        {
            "match": document.content_hash == printed,
            "content_hash": document.content_hash,
            "person_id": person_id,
            "month": month,
            "vehicle": scope,
        }
    )


@routes.get("/api/reports/{month}/payroll.csv")
async def export_payroll(request: web.Request) -> web.Response:
    _require_admin(request)
    month = _month(request.match_info["month"])
    configured = request.app[REPORTS_KEY].payroll
    wage_type = request.query.get("wage_type", configured.wage_type)
    if not 1 <= len(wage_type) <= 20:
        raise BadRequestError("wage_type must have 1 to 20 characters")
    columns = configured.columns
    if "columns" in request.query:
        try:
            columns = PayrollSettings.parse_columns(request.query["columns"])
        except ValueError as err:
            raise UnprocessableError(str(err)) from err
    payroll = PayrollSettings(
        wage_type=wage_type,
        columns=columns,
        delimiter=configured.delimiter,
        decimal_comma=configured.decimal_comma,
    )
    ledger = request.app[LEDGER_KEY]
    lang = _lang(request)

    def build() -> bytes:
        documents = statement_document.statements_of_month(
            ledger, month, home_zone=request.app[REPORTS_KEY].time_zone
        )
        return payroll_csv(documents, payroll, lang)

    body = await asyncio.to_thread(build)
    return _download(body, "text/csv; charset=utf-8", f"payroll-{month}.csv")


@routes.get("/api/reports/{month}/statements.xlsx")
async def export_month_xlsx(request: web.Request) -> web.Response:
    _require_admin(request)
    month = _month(request.match_info["month"])
    ledger = request.app[LEDGER_KEY]
    lang = _lang(request)

    def build() -> bytes:
        documents = statement_document.statements_of_month(
            ledger, month, home_zone=request.app[REPORTS_KEY].time_zone
        )
        return statement_xlsx(documents, lang)

    body = await asyncio.to_thread(build)
    return _download(body, EXPORT_FORMATS["xlsx"][0], f"statements-{month}.xlsx")


@routes.get("/api/exports/sessions.csv")
async def export_sessions(request: web.Request) -> web.StreamResponse:
    person_id = _query_int(request, "person_id", low=1, high=2**62)
    if not _identity(request).is_admin:
        own = await _own_person_id(request)
        if own is None or person_id not in (None, own):
            raise _forbidden("you may only see your own sessions")
        person_id = own
    flavour = request.query.get("flavour", "machine")
    if flavour not in ("machine", "excel"):
        raise BadRequestError("flavour must be machine or excel")
    where = SessionFilter(
        person_id=person_id,
        vehicle_id=_query_int(request, "vehicle_id", low=1, high=2**62),
        charger_serial=request.query.get("charger"),
        started_from=_query_time(request, "from"),
        started_before=_query_time(request, "to"),
        awaiting_approval=request.query.get("awaiting_approval") == "true",
    )
    chunks = sessions_csv(request.app[LEDGER_KEY], where, flavour, _lang(request))
    first = await asyncio.to_thread(next, chunks, b"")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="sessions-{flavour}.csv"',
        }
    )
    await response.prepare(request)
    chunk = first
    while chunk:
        await response.write(chunk)
        chunk = await asyncio.to_thread(next, chunks, b"")
    await response.write_eof()
    return response


@routes.post("/api/import/evcc")
async def import_evcc(request: web.Request) -> web.Response:
    identity = _require_admin(request)
    person_id = _query_int(request, "person_id", low=1, high=2**62)
    vehicle_id = _query_int(request, "vehicle_id", low=1, high=2**62)
    time_zone = request.query.get("time_zone", request.app[REPORTS_KEY].time_zone)
    currency = request.query.get("currency", "EUR")
    if not (len(currency) == 3 and currency.isalpha() and currency.isascii()):
        raise BadRequestError("currency must be a three-letter code")
    if request.content_length is not None and request.content_length > MAX_IMPORT:
        raise _too_large("the file is larger than 20 MB")
    data = bytearray()
    async for block in request.content.iter_chunked(65536):
        data.extend(block)
        if len(data) > MAX_IMPORT:
            raise _too_large("the file is larger than 20 MB")
    result = await asyncio.to_thread(
        evcc.import_csv,
        request.app[LEDGER_KEY],
        bytes(data),
        time_zone=time_zone,
        currency=currency.upper(),
        person_id=person_id,
        vehicle_id=vehicle_id,
        author=identity.name,
    )
    return web.json_response(result.as_json(), status=201 if result.stored else 200)


def create_app(
    ledger: Ledger,
    policy: AccessPolicy,
    status: IngestStatus | None = None,
    reports: ReportSettings | None = None,
    *,
    ui: bool = True,
) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, access_middleware(policy), contract_middleware],
        client_max_size=MAX_BODY,
        # Every URL openapi.json allows fits (a 1,000-character column list of non-ASCII
        # text is 12 KB encoded); with aiohttp's 8 KB default such a request would get a
        # plain-text 400 before the API sees it.
        handler_args={"max_line_size": MAX_URL, "max_field_size": MAX_URL},
    )
    app[LEDGER_KEY] = ledger
    app[STATUS_KEY] = status or IngestStatus()
    app[REPORTS_KEY] = reports or ReportSettings()
    app.add_routes(routes)
    if ui:
        ledger_web.setup(app)
    return app
