"""Session records shaped like the integration's (DESIGN.md section 6), for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def make_record(
    seq: int,
    *,
    session_id: str | None = None,
    started: datetime | None = None,
    minutes: int = 90,
    meter_start_wh: int = 1_000_000,
    energy_wh: int = 7_400,
    cost_total: str | None = "2.22",
    user_id: str | None = None,
    tag_hash: str | None = None,
    vehicle: str | None = None,
    mid: bool | None = True,
    time_zone: str = "Europe/Berlin",
    signed_meter_values: list[dict[str, Any]] | None = None,
    flags: list[str] | None = None,
) -> dict[str, Any]:
    start = started or datetime(2026, 3, 1, 18, 0, tzinfo=UTC) + timedelta(hours=seq)
    end = start + timedelta(minutes=minutes)
    return {
        "schema": 1,
        "id": session_id or str(uuid.UUID(int=seq)),
        "seq": seq,
        "charger": {
            "serial": "WB-0001",
            "name": "Garage",
            "model": "KC-P30",
            "manufacturer": "KEBA",
        },
        "meter": {"serial": "MTR-42", "model": "EM340", "source": "charger", "mid": mid},
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "ended_at": end.isoformat().replace("+00:00", "Z"),
        "time_zone": time_zone,
        "meter_start_wh": meter_start_wh,
        "meter_end_wh": meter_start_wh + energy_wh,
        "energy_wh": energy_wh,
        "max_power_w": 11000,
        "charging_seconds": minutes * 60,
        "authorization": {
            "method": "rfid" if tag_hash else ("ha_user" if user_id else "none"),
            "tag_hash": tag_hash,
            "user_id": user_id,
            "user_name": None,
            "vehicle": vehicle,
        },
        "cost": {
            "currency": "EUR",
            "total": cost_total,
            "tariff": "flat",
            "intervals": [],
        },
        "signed_meter_values": signed_meter_values or [],
        "end_reason": "unplugged",
        "flags": flags or [],
        "reconciliation": None,
    }
