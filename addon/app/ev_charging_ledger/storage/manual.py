"""External sessions (public charging) entered by a user, as contract records."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ev_charging_ledger.records import decimal_text, iso_utc

from .db import text


def manual_record(
    *,
    author: str,
    started_at: datetime,
    ended_at: datetime,
    energy_wh: Decimal,
    cost_total: Decimal | None,
    currency: str,
    time_zone: str,
    person_id: int | None,
    vehicle_id: int | None,
    location: str,
    note: str | None,
) -> dict[str, Any]:
    """The record of an external session (public charging) entered by a user."""
    return {
        "schema": 1,
        "id": str(uuid.uuid4()),
        "seq": None,
        "charger": {"serial": None, "name": location, "model": None, "manufacturer": None},
        "meter": {"serial": None, "model": None, "source": "external", "mid": None},
        "started_at": iso_utc(started_at),
        "ended_at": iso_utc(ended_at),
        "time_zone": time_zone,
        "meter_start_wh": None,
        "meter_end_wh": None,
        "energy_wh": decimal_text(energy_wh),
        "max_power_w": None,
        "charging_seconds": None,
        "authorization": {
            "method": "none",
            "tag_hash": None,
            "user_id": None,
            "user_name": None,
            "vehicle": None,
        },
        "cost": {
            "currency": currency,
            "total": text(cost_total),
            "tariff": None,
            "intervals": [],
        },
        "signed_meter_values": [],
        "end_reason": "stopped",
        "flags": ["manual_external"],
        "reconciliation": None,
        "manual": {
            "entered_by": author,
            "note": note,
            "person_id": person_id,
            "vehicle_id": vehicle_id,
        },
    }
