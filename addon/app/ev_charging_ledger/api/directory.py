"""API routes for who and what sessions belong to and how they are priced: people,
vehicles, cost centres, RFID credentials, rates and official flat prices."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ev_charging_ledger.http_context import LEDGER_KEY
from ev_charging_ledger.http_context import identity as _identity
from ev_charging_ledger.http_context import own_person_id as _own_person_id
from ev_charging_ledger.http_context import require_admin as _require_admin
from ev_charging_ledger.params import BadRequestError

from .inputs import date_field, decimal_field, int_field, request_body, string_field

routes = web.RouteTableDef()


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
    body = await request_body(request)
    person = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_person,
        string_field(body, "name", max_len=200),
        personnel_number=string_field(body, "personnel_number", required=False, max_len=50),
        ha_user_id=string_field(body, "ha_user_id", required=False, max_len=100),
        cost_centre_id=int_field(body, "cost_centre_id"),
        country=string_field(body, "country", required=False, max_len=2) or "DE",
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
    body = await request_body(request)
    company_car = body.get("company_car", True)
    if not isinstance(company_car, bool):
        raise BadRequestError("company_car must be true or false")
    vehicle = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_vehicle,
        string_field(body, "name", max_len=200),
        plate=string_field(body, "plate", required=False, max_len=20),
        person_id=int_field(body, "person_id"),
        company_car=company_car,
        cost_centre_id=int_field(body, "cost_centre_id"),
    )
    return web.json_response(vehicle.as_json(), status=201)


@routes.get("/api/cost_centres")
async def list_cost_centres(request: web.Request) -> web.Response:
    _require_admin(request)
    return web.json_response(await asyncio.to_thread(request.app[LEDGER_KEY].cost_centres))


@routes.post("/api/cost_centres")
async def add_cost_centre(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await request_body(request)
    centre_id = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_cost_centre,
        string_field(body, "code", max_len=50),
        string_field(body, "name", max_len=200),
    )
    return web.json_response({"id": centre_id}, status=201)


@routes.get("/api/credentials")
async def list_credentials(request: web.Request) -> web.Response:
    _require_admin(request)
    return web.json_response(await asyncio.to_thread(request.app[LEDGER_KEY].credentials))


@routes.put("/api/credentials/{tag_hash}")
async def set_credential(request: web.Request) -> web.Response:
    _require_admin(request)
    body = await request_body(request)
    tag_hash = request.match_info["tag_hash"]
    if not 1 <= len(tag_hash) <= 128:
        raise BadRequestError("tag_hash must have 1 to 128 characters")
    await asyncio.to_thread(
        request.app[LEDGER_KEY].set_credential,
        tag_hash,
        person_id=int_field(body, "person_id"),
        vehicle_id=int_field(body, "vehicle_id"),
        label=string_field(body, "label", required=False, max_len=200),
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
    body = await request_body(request)
    valid_from = date_field(body, "valid_from")
    assert valid_from is not None
    rate, warnings = await asyncio.to_thread(
        lambda: request.app[LEDGER_KEY].add_rate(
            person_id=int_field(body, "person_id"),
            vehicle_id=int_field(body, "vehicle_id"),
            valid_from=valid_from,
            valid_to=date_field(body, "valid_to", required=False),
            direction=string_field(body, "direction", max_len=20),
            basis=string_field(body, "basis", max_len=20),
            price_per_kwh=decimal_field(body, "price_per_kwh", required=False),
            currency=string_field(body, "currency", max_len=3),
            note=string_field(body, "note", required=False, max_len=500),
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
    body = await request_body(request)
    year = int_field(body, "year", required=True)
    if not 2000 <= year <= 2200:
        raise BadRequestError("year must be between 2000 and 2200")
    price = decimal_field(body, "price_per_kwh")
    assert price is not None
    flat = await asyncio.to_thread(
        request.app[LEDGER_KEY].add_flat_price,
        year,
        string_field(body, "country", max_len=2),
        price,
        string_field(body, "currency", max_len=3),
        string_field(body, "source", max_len=1000),
    )
    return web.json_response(flat.as_json(), status=201)
