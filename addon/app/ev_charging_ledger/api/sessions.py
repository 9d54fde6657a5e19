"""API routes for sessions: the list and one session, adjustments, external sessions
entered by hand, the streamed CSV export and the evcc import."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ev_charging_ledger import params
from ev_charging_ledger.http_context import LEDGER_KEY, REPORTS_KEY
from ev_charging_ledger.http_context import check_person_access as _check_person_access
from ev_charging_ledger.http_context import forbidden as _forbidden
from ev_charging_ledger.http_context import identity as _identity
from ev_charging_ledger.http_context import own_person_id as _own_person_id
from ev_charging_ledger.http_context import require_admin as _require_admin
from ev_charging_ledger.params import BadRequestError, UnprocessableError
from ev_charging_ledger.reports import evcc
from ev_charging_ledger.reports.tabular import sessions_csv
from ev_charging_ledger.storage import NotFoundError, SessionFilter

from .inputs import (
    decimal_field,
    int_field,
    language,
    query_int,
    query_time,
    request_body,
    string_field,
    time_field,
)
from .middleware import too_large

routes = web.RouteTableDef()


@routes.get("/api/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    person_id = query_int(request, "person_id", low=1, high=2**62)
    if not _identity(request).is_admin:
        own = await _own_person_id(request)
        if person_id is not None and person_id != own:
            raise _forbidden("you may only see your own sessions")
        if own is None:
            return web.json_response({"items": [], "next_cursor": None})
        person_id = own
    where = SessionFilter(
        person_id=person_id,
        vehicle_id=query_int(request, "vehicle_id", low=1, high=2**62),
        charger_serial=request.query.get("charger"),
        started_from=query_time(request, "from"),
        started_before=query_time(request, "to"),
        awaiting_approval=request.query.get("awaiting_approval") == "true",
    )
    limit = query_int(request, "limit", low=1, high=1000) or 50
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
    body = await request_body(request)
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise BadRequestError("data must be an object")
    if data is not None:
        for name in ("person_id", "vehicle_id"):
            int_field(data, name)  # a reassignment names people and vehicles by their ids
    adjustment = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_adjustment,
        request.match_info["session_id"],
        string_field(body, "kind", max_len=40),
        reason=string_field(body, "reason", max_len=2000),
        author=identity.name,
        data=data,
    )
    return web.json_response(adjustment.as_json(), status=201)


@routes.post("/api/manual_sessions")
async def add_manual_session(request: web.Request) -> web.Response:
    identity = _identity(request)
    body = await request_body(request)
    ledger = request.app[LEDGER_KEY]
    person_id = int_field(body, "person_id")
    vehicle_id = int_field(body, "vehicle_id")
    if not identity.is_admin:
        own = await _own_person_id(request)
        if own is None or person_id not in (None, own):
            raise _forbidden("you may only enter sessions for yourself")
        person_id = own
        if vehicle_id is not None:
            vehicle = await asyncio.to_thread(ledger.vehicle, vehicle_id)
            if vehicle is None or vehicle.person_id != own:
                raise _forbidden("you may only enter sessions on your own vehicle")
    started, ended = time_field(body, "started_at"), time_field(body, "ended_at")
    if ended < started:
        raise UnprocessableError("ended_at is before started_at")
    energy = decimal_field(body, "energy_wh")
    assert energy is not None
    pending = not identity.is_admin
    session_id = await asyncio.to_thread(
        ledger.add_manual_session,
        author=identity.name,
        started_at=started,
        ended_at=ended,
        energy_wh=energy,
        cost_total=decimal_field(body, "cost_total", required=False),
        currency=string_field(body, "currency", max_len=3),
        time_zone=string_field(body, "time_zone", max_len=60),
        person_id=person_id,
        vehicle_id=vehicle_id,
        location=string_field(body, "location", max_len=200),
        note=string_field(body, "note", required=False, max_len=2000),
        pending_approval=pending,
    )
    return web.json_response(
        {"session_id": session_id, "approval": "pending" if pending else "not needed"},
        status=201,
    )


@routes.get("/api/exports/sessions.csv")
async def export_sessions(request: web.Request) -> web.StreamResponse:
    person_id = query_int(request, "person_id", low=1, high=2**62)
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
        vehicle_id=query_int(request, "vehicle_id", low=1, high=2**62),
        charger_serial=request.query.get("charger"),
        started_from=query_time(request, "from"),
        started_before=query_time(request, "to"),
        awaiting_approval=request.query.get("awaiting_approval") == "true",
    )
    chunks = sessions_csv(request.app[LEDGER_KEY], where, flavour, language(request))
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


MAX_IMPORT = 20 * 1024 * 1024


@routes.post("/api/import/evcc")
async def import_evcc(request: web.Request) -> web.Response:
    identity = _require_admin(request)
    person_id = query_int(request, "person_id", low=1, high=2**62)
    vehicle_id = query_int(request, "vehicle_id", low=1, high=2**62)
    time_zone = request.query.get("time_zone", request.app[REPORTS_KEY].time_zone)
    currency = request.query.get("currency", "EUR")
    if not (len(currency) == 3 and currency.isalpha() and currency.isascii()):
        raise BadRequestError("currency must be a three-letter code")
    if request.content_length is not None and request.content_length > MAX_IMPORT:
        raise too_large("the file is larger than 20 MB")
    data = bytearray()
    async for block in request.content.iter_chunked(65536):
        data.extend(block)
        if len(data) > MAX_IMPORT:
            raise too_large("the file is larger than 20 MB")
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
