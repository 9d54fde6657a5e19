"""Build the integration-ledger contract record (DESIGN.md section 6) of a session.

`meter_resolution_wh` (decimal string or null) is the billing register's step in Wh: a
0.1 kWh register gives "100". A single session's energy is exact only to this step; over
consecutive sessions the energies add up to the register's change across them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..devices import Identity
from .tracker import CompletedSession

SCHEMA_VERSION = 1


def iso_utc(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, as the contract writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decimal_text(value: Decimal) -> str:
    """A Decimal without exponent notation."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def session_record(
    completed: CompletedSession,
    *,
    charger: Identity,
    charger_name: str,
    meter: Identity | None,
    meter_source: str,
    time_zone: str,
    cost: dict[str, Any] | None,
    authorization: dict[str, Any],
    extra_flags: list[str] | None = None,
    reconciliation: dict[str, str] | None = None,
    signed_meter_values: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The record of a completed session, without `seq` (the history store assigns it)."""
    session = completed.session
    meter_identity = meter or charger
    flags = [*session.flags, *(extra_flags or [])]
    return {
        "schema": SCHEMA_VERSION,
        "id": session.id,
        "charger": {
            "serial": charger.serial,
            "name": charger_name,
            "model": charger.model,
            "manufacturer": charger.manufacturer,
        },
        "meter": {
            "serial": meter_identity.serial,
            "model": meter_identity.model,
            "source": meter_source,
            "mid": None,
        },
        "started_at": iso_utc(session.started_at),
        "ended_at": iso_utc(completed.ended_at),
        "time_zone": time_zone,
        "meter_start_wh": decimal_text(session.meter_start_wh),
        "meter_end_wh": decimal_text(session.meter_end_wh),
        "energy_wh": decimal_text(session.energy_wh),
        "meter_resolution_wh": (
            None if session.resolution_wh is None else decimal_text(session.resolution_wh)
        ),
        "max_power_w": round(session.max_power_w, 1),
        "charging_seconds": round(session.charging_seconds),
        "authorization": authorization,
        "cost": cost,
        "signed_meter_values": signed_meter_values or [],
        "end_reason": completed.end_reason,
        "flags": list(dict.fromkeys(flags)),
        "reconciliation": reconciliation,
    }
