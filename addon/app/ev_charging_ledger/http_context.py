"""What the JSON API and the web UI share per request: app keys, identity, errors.

Both ``api`` and ``web`` import this module and neither imports the other's handlers,
so the UI can be mounted by the API without an import cycle.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from ev_charging_ledger import params
from ev_charging_ledger.access import IDENTITY_KEY, Identity
from ev_charging_ledger.ingest import IngestStatus
from ev_charging_ledger.params import BadRequestError
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.storage import Ledger

__all__ = ["BadRequestError"]  # raised by both api and web; defined with the parsers

LEDGER_KEY = web.AppKey("ledger", Ledger)
STATUS_KEY = web.AppKey("ingest_status", IngestStatus)
REPORTS_KEY = web.AppKey("report_settings", ReportSettings)
# The CSRF token of a browser login session (absent for ingress and bearer tokens).
CSRF_KEY = web.RequestKey("csrf", str)


def identity(request: web.Request) -> Identity:
    found = request[IDENTITY_KEY]
    assert isinstance(found, Identity)
    return found


def require_admin(request: web.Request) -> Identity:
    found = identity(request)
    if not found.is_admin:
        raise web.HTTPForbidden(
            text='{"error": "administrators only"}', content_type="application/json"
        )
    return found


def forbidden(message: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=json.dumps({"error": message}), content_type="application/json")


async def own_person_id(request: web.Request) -> int | None:
    """The person the (non-admin) caller is linked to."""
    caller = identity(request)
    if caller.user_id is None:
        return None
    person = await asyncio.to_thread(request.app[LEDGER_KEY].person_for_user, caller.user_id)
    return None if person is None else person.id


async def check_person_access(request: web.Request, person_id: int | None) -> None:
    if identity(request).is_admin:
        return
    own = await own_person_id(request)
    if own is None or person_id != own:
        raise forbidden("you may only see your own sessions and statements")


def parse_month(text: str) -> str:
    return params.month(text)
