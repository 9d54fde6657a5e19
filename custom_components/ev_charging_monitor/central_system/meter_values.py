"""OCPP 1.6 sampled values as reading fields (Home Assistant-free).

A sampled value without a measurand is the energy register (OCPP 1.6 default), unless it
is signed data: that is kept verbatim and never read as a number. Units follow the spec
defaults (Wh, W, A, V); kWh and kW are scaled. A value that is no finite number is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

ENERGY: Final = "Energy.Active.Import.Register"
POWER: Final = "Power.Active.Import"
CURRENT: Final = "Current.Import"
VOLTAGE: Final = "Voltage"
SIGNED_DATA: Final = "SignedData"
# Each unit's power of ten to the reading's unit (Wh, W, A, V).
_EXPONENT: Final = {"kWh": 3, "kW": 3, "Wh": 0, "W": 0, "A": 0, "V": 0}
_PHASES: Final = {"L1": "l1", "L2": "l2", "L3": "l3", "L1-N": "l1", "L2-N": "l2", "L3-N": "l3"}
_FIELDS: Final = {ENERGY: "energy", POWER: "power", CURRENT: "current", VOLTAGE: "voltage"}


@dataclass
class MeterSample:
    """What one MeterValues message (or transaction message) says, in reading units."""

    values: dict[str, float] = field(default_factory=dict)
    signed: list[str] = field(default_factory=list)


def scaled(value: object, exponent: int) -> float | None:
    """`value` (text or number) times 10^exponent, scaled in decimal so that a register of
    1024.003 kWh is 1024003 Wh exactly, not a float's neighbour of it; None when it is no
    finite number."""
    try:
        # str() first: a float's shortest text is the number the charger wrote.
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    result = float(number.scaleb(exponent))
    return result if math.isfinite(result) else None  # 1e308 kWh is no float


def place(sample: MeterSample, name: str, phase: str | None, value: float) -> None:
    """Put a value of field `name` (energy, power, current, voltage) into the sample: the
    total without a phase, per phase with one (a register has no phases)."""
    if phase is None:
        if name in ("energy", "power"):
            sample.values[name] = value
    elif (suffix := _PHASES.get(phase)) is not None and name != "energy":
        sample.values[f"{name}_{suffix}"] = value


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
            value = scaled(sampled.get("value"), _EXPONENT.get(unit, 0))
            if value is not None:
                place(sample, name, sampled.get("phase"), value)
    return sample
