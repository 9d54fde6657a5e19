"""OCPP 1.6 sampled values as reading fields (Home Assistant-free).

A sampled value without a measurand is the energy register (OCPP 1.6 default), unless it
is signed data: that is kept verbatim and never read as a number. Units follow the spec
defaults (Wh, W, A, V); kWh and kW are scaled. A value that is no finite number is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ENERGY: Final = "Energy.Active.Import.Register"
POWER: Final = "Power.Active.Import"
CURRENT: Final = "Current.Import"
VOLTAGE: Final = "Voltage"
SIGNED_DATA: Final = "SignedData"
_SCALE: Final = {"kWh": 1000.0, "kW": 1000.0, "Wh": 1.0, "W": 1.0, "A": 1.0, "V": 1.0}
_PHASES: Final = {"L1": "l1", "L2": "l2", "L3": "l3", "L1-N": "l1", "L2-N": "l2", "L3-N": "l3"}
_FIELDS: Final = {ENERGY: "energy", POWER: "power", CURRENT: "current", VOLTAGE: "voltage"}


@dataclass
class MeterSample:
    """What one MeterValues message (or transaction message) says, in reading units."""

    values: dict[str, float] = field(default_factory=dict)
    signed: list[str] = field(default_factory=list)


def _number(text: object, unit: str) -> float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value * _SCALE.get(unit, 1.0)


def parse_meter_values(meter_values: Iterable[Mapping[str, Any]]) -> MeterSample:
    """Reading fields (`energy`, `power`, `power_l1`, `current_l2`, ...) from meter values.

    `meter_values` are the message's `meterValue` entries with snake_case keys, as the
    ocpp library hands them over. Later entries win over earlier ones.
    """
    sample = MeterSample()
    for meter_value in meter_values:
        for sampled in meter_value.get("sampled_value", []):
            if sampled.get("format") == SIGNED_DATA:
                sample.signed.append(str(sampled.get("value", "")))
                continue
            if sampled.get("location", "Outlet") not in ("Outlet", "Inlet"):
                continue  # values of the vehicle (state of charge) are no charger reading
            measurand = sampled.get("measurand", ENERGY)
            name = _FIELDS.get(measurand)
            if name is None:
                continue
            unit = sampled.get("unit", "Wh" if measurand == ENERGY else "")
            value = _number(sampled.get("value"), unit)
            if value is None:
                continue
            phase = sampled.get("phase")
            if phase is None:
                if name in ("energy", "power"):
                    sample.values[name] = value
                continue
            if (suffix := _PHASES.get(phase)) is not None and name != "energy":
                sample.values[f"{name}_{suffix}"] = value
    return sample
