"""API routes about the ledger itself: health, the OpenAPI document, who is asking, ingest
status, verification of the chains and signed values, retention and legal hold."""

from __future__ import annotations

import asyncio
from importlib import resources

from aiohttp import web

from ev_charging_ledger import i18n
from ev_charging_ledger.http_context import LEDGER_KEY, STATUS_KEY
from ev_charging_ledger.http_context import identity as _identity
from ev_charging_ledger.http_context import require_admin as _require_admin
from ev_charging_ledger.params import BadRequestError

from .inputs import int_field, language, request_body, string_field

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
    lang = language(request)
    for failure in body["ocmf_failures"]:
        failure["reason"] = i18n.ocmf_failure(lang, failure)
    body["ocmf_summary"] = i18n.text(lang, "ocmf_checked").format(count=report.ocmf_checked)
    return web.json_response(body)


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
    body = await request_body(request)
    ledger = request.app[LEDGER_KEY]
    years = int_field(body, "years")
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
                active=hold, author=identity.name, reason=string_field(body, "reason", max_len=2000)
            )
        )
    return web.json_response({"years": ledger.retention_years(), "legal_hold": ledger.legal_hold()})
