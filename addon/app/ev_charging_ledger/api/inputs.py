"""Values from the query, the path and the JSON body of API requests, each checked: a
malformed value is a 400 or 422 with the parameter's name, never a crash."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ev_charging_ledger import i18n, params
from ev_charging_ledger.params import BadRequestError, UnprocessableError
from ev_charging_ledger.records import RecordError, parse_utc

from .middleware import BODY_KEY, read_json


def query_int(request: web.Request, name: str, *, low: int, high: int) -> int | None:
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


def query_time(request: web.Request, name: params.Bound) -> datetime | None:
    return params.time_bound(request.query.get(name), name)


def path_int(request: web.Request, name: str) -> int:
    return params.positive_id(request.match_info[name], name)


async def request_body(request: web.Request) -> dict[str, Any]:
    body = request.get(BODY_KEY)
    if body is None:
        body = await read_json(request, required=True)
    return body


def string_field(
    body: dict[str, Any], name: str, *, required: bool = True, max_len: int = 500
) -> Any:
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


def int_field(body: dict[str, Any], name: str, *, required: bool = False) -> Any:
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


def decimal_field(body: dict[str, Any], name: str, *, required: bool = True) -> Decimal | None:
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


def date_field(body: dict[str, Any], name: str, *, required: bool = True) -> date | None:
    value = string_field(body, name, required=required, max_len=10)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise UnprocessableError(f"{name} must be a date YYYY-MM-DD") from err


def time_field(body: dict[str, Any], name: str) -> datetime:
    value = string_field(body, name, max_len=40)
    try:
        return parse_utc(value, name)
    except RecordError as err:
        raise UnprocessableError(str(err)) from err
    except OverflowError as err:
        raise UnprocessableError(f"{name} is out of range") from err


def language(request: web.Request) -> str:
    return i18n.language(request.query.get("lang") or request.headers.get("Accept-Language"))
