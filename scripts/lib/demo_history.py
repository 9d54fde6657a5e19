"""A year of charging for the demo: two people, two cars, one wallbox behind the meter.

The sessions are made by the simulators' own models (the wallbox's charger model charging
a simulated car, the SDM630's meter model counting in front of it, on a simulated clock),
priced with the integration's tariff code at the demo's time-of-use tariff, and written
as the integration writes finished sessions (its record builder, checked against the
contract) into Home Assistant's session history before Home Assistant starts. The ledger
then receives them the way it receives every live session: catching up over Home
Assistant's websocket API, by seq. The meter's register ends where the live simulated
meter starts, so the year leads up to today's readings.

Who charged is decided by a seeded random generator, so every fresh demo has the same
year (moved to end today).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.ev_charging_monitor.devices import Identity
from custom_components.ev_charging_monitor.ledger_link import contract
from custom_components.ev_charging_monitor.pricing.cost import session_cost
from custom_components.ev_charging_monitor.pricing.options import (
    CONF_TARIFF,
    EVERY_DAY,
    static_tariff,
)
from custom_components.ev_charging_monitor.pricing.tariff import Tariff
from custom_components.ev_charging_monitor.session.record import session_record
from custom_components.ev_charging_monitor.session.tracker import (
    ActiveSession,
    CompletedSession,
    Segment,
)
from simulators.behaviour import ChargerModel, MeterModel
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

ZONE = ZoneInfo("Europe/Berlin")
STORE_KEY = "ev_charging_monitor.sessions"
SEED = 2026


@dataclass(frozen=True, slots=True)
class Driver:
    """A person with a card and a car, and when they charge."""

    name: str
    personnel_number: str
    username: str | None  # their Home Assistant login (None: the demo's owner account)
    card: str  # the card's keyed hash as the integration records it
    car: str
    plate: str
    amps: int
    phases: int


SAM = Driver("Sam Berger", "1001", None, "demo-card-sam-berger", "ID.4 company car",
             "B-EV 1001", 16, 3)  # fmt: skip
ALEX = Driver("Alex Novak", "1002", "alex", "demo-card-alex-novak", "Zoe", "B-AN 2002", 16, 1)
DRIVERS = (SAM, ALEX)
ALEX_PASSWORD = "alex-charging"


# The demo's tariff as the options flow stores it (demo.py TARIFF_STEPS walks the same
# numbers through the flow): 0.35 EUR/kWh from 06:00 to 22:00, 0.22 EUR/kWh at night.
DEMO_TARIFF: dict[str, Any] = {
    "type": "time_of_use",
    "periods": [
        {"start": "06:00", "end": "22:00", "price": "0.35", "days": EVERY_DAY},
        {"start": "22:00", "end": "00:00", "price": "0.22", "days": EVERY_DAY},
        {"start": "00:00", "end": "06:00", "price": "0.22", "days": EVERY_DAY},
    ],
}


def tariff(stored: dict[str, Any]) -> Tariff:
    """A tariff as the integration builds it from the options it stored."""
    built = static_tariff({CONF_TARIFF: stored}, currency="EUR", time_zone="Europe/Berlin")
    if built is None:
        raise ValueError(f"not a fixed tariff: {stored}")
    return built


@dataclass(frozen=True, slots=True)
class Plan:
    driver: Driver | None  # None: a guest without a card
    plug_in: datetime
    unplug: datetime
    wanted_wh: int


def _plans(today: date, rng: random.Random) -> list[Plan]:
    """Sam charges on weekday evenings and leaves in the morning; Alex charges at the
    weekend during the day; now and then a guest plugs in without a card."""
    first = date(today.year - 1, today.month, 1)
    plans: list[Plan] = []
    day = first
    while day < today:
        if day.weekday() < 5 and rng.random() < 0.45:
            plug = datetime.combine(day, time(17, 30), ZONE) + timedelta(
                minutes=rng.randint(0, 150)
            )
            leave = datetime.combine(day + timedelta(days=1), time(7, 0), ZONE) + timedelta(
                minutes=rng.randint(0, 60)
            )
            plans.append(Plan(SAM, plug, leave, rng.randint(6_000, 24_000)))
        elif day.weekday() >= 5 and rng.random() < 0.6:
            plug = datetime.combine(day, time(9, 0), ZONE) + timedelta(minutes=rng.randint(0, 180))
            hours = rng.uniform(2.5, 6.0)
            plans.append(
                Plan(ALEX, plug, plug + timedelta(hours=hours), rng.randint(4_000, 16_000))
            )
        elif day.weekday() < 5 and rng.random() < 0.05:
            plug = datetime.combine(day, time(12, 0), ZONE) + timedelta(minutes=rng.randint(0, 120))
            plans.append(Plan(None, plug, plug + timedelta(hours=2), rng.randint(3_000, 9_000)))
        day += timedelta(days=1)
    # A guest's charge this month as well, so the dashboard asks to assign it.
    month_start = datetime.combine(today.replace(day=1), time(0), ZONE)
    if not any(p.driver is None and p.plug_in >= month_start for p in plans):
        noon = datetime.combine(today.replace(day=1), time(11, 0), ZONE)
        if noon + timedelta(hours=2) < datetime.now(ZONE):
            plans.append(Plan(None, noon, noon + timedelta(hours=2), 5_500))
    plans.sort(key=lambda plan: plan.plug_in)
    return [p for p in plans if p.unplug < datetime.now(ZONE) - timedelta(minutes=30)]


@dataclass(frozen=True, slots=True)
class Charge:
    """What the simulated devices measured for one plan."""

    plan: Plan
    meter_start_wh: Decimal
    meter_end_wh: Decimal
    full_at: datetime
    charging_seconds: float
    max_power_w: float


def _charge(plan: Plan, register_wh: float) -> Charge:
    """Plug a simulated car into the wallbox's charger model, on a simulated clock, with
    the SDM630's meter model in front; read the meter at plug-in and at unplug."""
    clock = SimClock(manual=True)
    charger = ChargerModel(clock, min_current=6, max_current=32)
    meter = MeterModel(charger, import_wh=register_wh)
    driver = plan.driver or ALEX  # a guest's car draws like a small car
    start_register = meter.import_wh()
    charger.plug(
        Vehicle(max_current=driver.amps, phases=driver.phases, energy_wanted=plan.wanted_wh)
    )
    power = charger.phases().total_power
    plugged = (plan.unplug - plan.plug_in).total_seconds()
    # Whole seconds, in steps, so the meter counts as it would while being polled.
    elapsed = 0.0
    full_after = plugged
    while elapsed < plugged:
        step = min(60.0, plugged - elapsed)
        clock.advance(step)
        elapsed += step
        charger.update()
        vehicle = charger.vehicle
        if vehicle is not None and vehicle.full and full_after == plugged:
            full_after = elapsed
    charging = charger.charging_seconds()
    end_register = meter.import_wh()
    charger.unplug()
    return Charge(
        plan,
        Decimal(str(round(start_register, 1))),
        Decimal(str(round(end_register, 1))),
        plan.plug_in + timedelta(seconds=min(full_after, charging + 60)),
        charging,
        power,
    )


def _record(charge: Charge, seq: int, prices: Tariff) -> dict[str, Any]:
    plan = charge.plan
    start, end = plan.plug_in.astimezone(UTC), plan.unplug.astimezone(UTC)
    full = min(max(charge.full_at.astimezone(UTC), start + timedelta(seconds=1)), end)
    energy = charge.meter_end_wh - charge.meter_start_wh
    samples = [(start, charge.meter_start_wh)]
    if start < full < end:
        samples.append((full, charge.meter_end_wh))
    samples.append((end, charge.meter_end_wh))
    cost = session_cost(samples, prices).to_record()
    session = ActiveSession(
        id=str(uuid.UUID(int=random.Random(f"{SEED}-{plan.plug_in.isoformat()}").getrandbits(128))),
        started_at=start,
        segments=[Segment(charge.meter_start_wh, charge.meter_end_wh)],
        samples=[(start, Decimal(0)), (full, energy), (end, energy)],
        last_reading_at=end,
        register_at=end,
        max_power_w=charge.max_power_w,
        charging_seconds=charge.charging_seconds,
        duration_s=(end - start).total_seconds(),
    )
    wallbox, meter = VestelEVC04(), EastronSDM630()
    record = session_record(
        CompletedSession(session=session, ended_at=end, end_reason="unplugged"),
        charger=Identity(manufacturer=wallbox.brand, model=wallbox.model_name,
                         serial=wallbox.serial),
        charger_name=f"{wallbox.brand} {wallbox.model_name}",
        meter=Identity(manufacturer="Eastron", model="SDM630", serial=str(meter.serial)),
        meter_source="external",
        time_zone="Europe/Berlin",
        cost=cost,
        authorization={
            "method": "rfid" if plan.driver else "none",
            "tag_hash": plan.driver.card if plan.driver else None,
            "user_id": None,
            "user_name": None,
            "vehicle": None,
        },
    )  # fmt: skip
    record["seq"] = seq
    return record


def year_of_sessions(
    today: date, first_seq: int, stored_tariff: dict[str, Any] = DEMO_TARIFF
) -> list[dict[str, Any]]:
    """The year's records, numbered from `first_seq`; the meter ends where the live one
    starts."""
    plans = _plans(today, random.Random(SEED))
    prices = tariff(stored_tariff)
    charges = []
    register = 0.0
    for plan in plans:
        charges.append(charge := _charge(plan, register))
        register = float(charge.meter_end_wh)
    # The meter counted all of it, up to where the live simulated meter starts.
    offset = Decimal(str(round(EastronSDM630().meter.import_wh(), 1))) - Decimal(str(register))
    records = []
    for number, charge in enumerate(charges):
        moved = Charge(
            charge.plan,
            charge.meter_start_wh + offset,
            charge.meter_end_wh + offset,
            charge.full_at,
            charge.charging_seconds,
            charge.max_power_w,
        )
        record = _record(moved, first_seq + number, prices)
        if problems := contract.problems(record):
            raise ValueError(f"a demo record breaks the contract: {problems}")
        records.append(record)
    return records


def seed_home_assistant(storage: Path, today: date) -> int:
    """Add the year to Home Assistant's session history (Home Assistant is not running).

    Sessions already there keep their seq; the year follows them. Returns how many were
    added.
    """
    path = storage / STORE_KEY
    data: dict[str, Any] = {"last_seq": 0, "acked_seq": 0, "sessions": []}
    if path.is_file():
        data = json.loads(path.read_text())["data"]
    records = year_of_sessions(today, data["last_seq"] + 1)
    known = {record["id"] for record in data["sessions"]}
    records = [record for record in records if record["id"] not in known]
    if not records:
        return 0
    data["sessions"] = [*data["sessions"], *records]
    data["last_seq"] = records[-1]["seq"]
    storage.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".demo-tmp")
    temporary.write_text(
        json.dumps({"version": 1, "minor_version": 1, "key": STORE_KEY, "data": data})
    )
    temporary.replace(path)
    return len(records)


def set_up_ledger(data_dir: Path, user_ids: dict[str | None, str], first_year: int) -> None:
    """People, cars, cards and rates in the ledger, before it first starts (once)."""
    # Imported here: the ledger's package is on the path only inside the demo.
    from ev_charging_ledger.service import open_ledger

    with open_ledger(data_dir) as ledger:
        known = {person.name for person in ledger.people()}
        for driver in DRIVERS:
            if driver.name in known:
                continue
            person = ledger.add_person(
                driver.name,
                ha_user_id=user_ids.get(driver.username),
                personnel_number=driver.personnel_number,
            )
            vehicle = ledger.add_vehicle(driver.car, plate=driver.plate, person_id=person.id)
            ledger.set_credential(
                driver.card, person_id=person.id, vehicle_id=vehicle.id, label="RFID card"
            )
            # One price basis for each person per year, as the 2026 rules ask.
            fixed = driver is SAM
            ledger.add_rate(
                person_id=person.id,
                vehicle_id=None,
                valid_from=date(first_year, 1, 1),
                valid_to=None,
                direction="reimburse",
                basis="fixed_price" if fixed else "tariff_cost",
                price_per_kwh=Decimal("0.30") if fixed else None,
                currency="EUR",
                note="employer price" if fixed else "household tariff",
            )
