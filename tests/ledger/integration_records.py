"""Session records built by the integration's own code, for the ledger's unit tests.

The record comes from ``session_record`` (what ``SessionManager`` emits) over a real
``CompletedSession`` and ``SessionCost``, and is checked against the shared contract
(session_record.schema.json), so these tests cannot drift from what Home Assistant sends:
decimal strings for energy and money, ``mid: null``. The end-to-end tests use the real
integration in a real Home Assistant instead.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from custom_components.ev_charging_monitor.devices import Identity
from custom_components.ev_charging_monitor.ledger_link import contract
from custom_components.ev_charging_monitor.pricing.cost import IntervalCost, SessionCost
from custom_components.ev_charging_monitor.session.record import session_record
from custom_components.ev_charging_monitor.session.tracker import (
    ActiveSession,
    CompletedSession,
    Segment,
)

CHARGER = Identity(manufacturer="KEBA", model="KC-P30", serial="WB-0001")
METER = Identity(manufacturer="Carlo Gavazzi", model="EM340", serial="MTR-42")


def make_record(
    seq: int,
    *,
    session_id: str | None = None,
    started: datetime | None = None,
    minutes: int = 90,
    meter_start_wh: int | str = 1_000_000,
    energy_wh: int | str = 7_400,
    cost_total: str | None = "2.22",
    user_id: str | None = None,
    tag_hash: str | None = None,
    vehicle: str | None = None,
    mid: bool | None = None,
    time_zone: str = "Europe/Berlin",
    signed_meter_values: list[dict[str, Any]] | None = None,
    flags: list[str] | None = None,
) -> dict[str, Any]:
    """The record the integration emits for one session, with `seq` assigned."""
    start = started or datetime(2026, 3, 1, 18, 0, tzinfo=UTC) + timedelta(hours=seq)
    end = start + timedelta(minutes=minutes)
    register = Decimal(meter_start_wh)
    energy = Decimal(energy_wh)
    session = ActiveSession(
        id=session_id or str(uuid.UUID(int=seq)),
        started_at=start,
        segments=[Segment(register, register + energy)],
        samples=[(start, Decimal(0))],
        last_reading_at=end,
        register_at=end,
        max_power_w=11000.0,
        charging_seconds=minutes * 60,
        flags=list(flags or []),
    )
    cost = None
    if cost_total is not None:
        total = Decimal(cost_total)
        price = (total / energy * 1000).quantize(Decimal("0.0001")) if energy else None
        cost = SessionCost(
            currency="EUR",
            tariff="flat",
            total=total,
            intervals=(IntervalCost(start, end, energy, price, total, False),),
            flags=(),
            unpriced_energy_wh=Decimal(0),
        ).to_record()
    method = "rfid" if tag_hash else ("ha_user" if user_id else "none")
    record = session_record(
        CompletedSession(session=session, ended_at=end, end_reason="unplugged"),
        charger=CHARGER,
        charger_name="Garage",
        meter=METER,
        meter_source="charger",
        time_zone=time_zone,
        cost=cost,
        authorization={
            "method": method,
            "tag_hash": tag_hash,
            "user_id": user_id,
            "user_name": None,
            "vehicle": vehicle,
        },
    )
    record["seq"] = seq
    # The integration writes null; true/false are the contract's values for a source that
    # knows its meter's certification.
    record["meter"]["mid"] = mid
    if signed_meter_values is not None:
        # No charger driver produces signed values yet; their form is the contract's.
        record["signed_meter_values"] = signed_meter_values
    problems = contract.problems(record)
    assert not problems, problems
    return record
