"""The JSON API (described by ``openapi.json`` next to this package).

Every rejection is a 4xx with ``{"error": "..."}``. Non-admin users only ever see
their own person's sessions and statements; the checks live in the handlers that hand
out data, next to the query they guard. Routes are grouped by what they serve:
:mod:`.system`, :mod:`.sessions`, :mod:`.directory`, :mod:`.reports`.
"""

from __future__ import annotations

from aiohttp import web

from ev_charging_ledger import web as ledger_web
from ev_charging_ledger.access import AccessPolicy
from ev_charging_ledger.http_context import LEDGER_KEY, REPORTS_KEY, STATUS_KEY
from ev_charging_ledger.ingest import IngestStatus
from ev_charging_ledger.reports.settings import ReportSettings
from ev_charging_ledger.storage import Ledger

from . import directory, reports, sessions, system
from .middleware import MAX_BODY, MAX_URL, access_middleware, contract_middleware, error_middleware

ROUTE_TABLES = (system.routes, sessions.routes, directory.routes, reports.routes)
# Every route of the API, for the check that openapi.json documents each one.
routes = [route for table in ROUTE_TABLES for route in table]


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
    for table in ROUTE_TABLES:
        app.add_routes(table)
    if ui:
        ledger_web.setup(app)
    return app
