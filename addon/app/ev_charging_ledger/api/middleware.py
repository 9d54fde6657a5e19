"""The API's middlewares: errors as ``{"error": ...}``, who is asking, and every request
checked against ``openapi.json`` before a handler runs; the JSON body reader they share."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from ev_charging_ledger import spec
from ev_charging_ledger.access import IDENTITY_KEY, AccessPolicy
from ev_charging_ledger.login import LOGIN_PATHS
from ev_charging_ledger.params import BadRequestError
from ev_charging_ledger.records import RecordError
from ev_charging_ledger.reports import evcc
from ev_charging_ledger.storage import LedgerError, NotFoundError

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
        body = await read_json(request, required=operation.body_required)
        document.check(operation.body["application/json"], body, "body")
        request[BODY_KEY] = body
    return await handler(request)


async def read_json(request: web.Request, *, required: bool) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise too_large(f"the request body is larger than {MAX_BODY // 1024} KB")
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


def too_large(message: str) -> web.HTTPRequestEntityTooLarge:
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
