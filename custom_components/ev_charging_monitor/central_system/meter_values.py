"""OCPP 1.6 sampled values as reading fields (Home Assistant-free).

A sampled value without a measurand is the energy register (OCPP 1.6 default), unless it
is signed data: that is kept verbatim and never read as a number. Units follow the spec
defaults (Wh, W, A, V); kWh and kW are scaled. A value that is no finite number is skipped.

The limits the charger offers the vehicle (Current.Offered, Power.Offered) and the vehicle's
state of charge (SoC, usually with location EV) are read too: they are no meter readings,
only shown. Each must have its own unit (A; W or kW; Percent) and lie in a range a real
charger and battery can have; anything else is skipped.
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
CURRENT_OFFERED: Final = "Current.Offered"
POWER_OFFERED: Final = "Power.Offered"
SOC: Final = "SoC"
SIGNED_DATA: Final = "SignedData"
# Each unit's power of ten to the reading's unit (Wh, W, A, V).
_EXPONENT: Final = {"kWh": 3, "kW": 3, "Wh": 0, "W": 0, "A": 0, "V": 0}
_PHASES: Final = {"L1": "l1", "L2": "l2", "L3": "l3", "L1-N": "l1", "L2-N": "l2", "L3-N": "l3"}
_FIELDS: Final = {
    ENERGY: "energy",
    POWER: "power",
    CURRENT: "current",
    VOLTAGE: "voltage",
    CURRENT_OFFERED: "current_offered",
    POWER_OFFERED: "power_offered",
    SOC: "soc",
}
# Fields with a value of their own without a phase (a current or voltage needs one).
_TOTALS: Final = frozenset({"energy", "power", "current_offered", "power_offered", "soc"})
# The signals' units, each with its power of ten to the field's unit (A, W, %).
SIGNAL_UNITS: Final[dict[str, dict[str, int]]] = {
    "current_offered": {"A": 0},
    "power_offered": {"W": 0, "kW": 3},
    "soc": {"Percent": 0},
}
# What a charger can offer (megawatt charging: 3000 A, 3.75 MW) and a battery can be at.
SIGNAL_RANGES: Final[dict[str, tuple[float, float]]] = {
    "current_offered": (0.0, 5000.0),
    "power_offered": (0.0, 5_000_000.0),
    "soc": (0.0, 100.0),
}
# The vehicle's values come from its side of the cable (OCPP Location EV).
_VEHICLE: Final = frozenset({"soc"})


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
    """Put a value of field `name` (energy, power, current, voltage, an offered limit, the
    state of charge) into the sample: the total without a phase, per phase with one (a
    register and a state of charge have no phases). A signal outside its range is left out.
    """
    if (bounds := SIGNAL_RANGES.get(name)) is not None and not bounds[0] <= value <= bounds[1]:
        return
    if phase is None:
        if name in _TOTALS:
            sample.values[name] = value
    elif (suffix := _PHASES.get(phase)) is not None and name not in ("energy", "soc"):
        sample.values[f"{name}_{suffix}"] = value


def location_fits(name: str, location: object) -> bool:
    """Whether a value measured at `location` is one of field `name`: the charger's
    readings at its outlet or inlet; a state of charge is the vehicle's wherever it is
    said to be measured (OCPP names the location EV, not every charger does)."""
    return name in _VEHICLE or location is None or location in ("Outlet", "Inlet")


def field_name(measurand: object) -> str | None:
    """The reading field of an OCPP measurand (the same names in 1.6 and 2.0.1)."""
    return _FIELDS.get(measurand) if isinstance(measurand, str) else None


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
            measurand = sampled.get("measurand", ENERGY)
            name = field_name(measurand)
            if name is None or not location_fits(name, sampled.get("location")):
                continue
            if (units := SIGNAL_UNITS.get(name)) is not None:
                exponent = units.get(sampled.get("unit", next(iter(units))))
                if exponent is None:
                    continue  # a limit or a state of charge in a unit it cannot have
            else:
                unit = sampled.get("unit", "Wh" if measurand == ENERGY else "")
                exponent = _EXPONENT.get(unit, 0)
            value = scaled(sampled.get("value"), exponent)
            if value is not None:
                place(sample, name, sampled.get("phase"), value)
    return sample


def signals(values: Mapping[str, float]) -> dict[str, float | None]:
    """The offered limits and the state of charge of a charger's values, as the reading's
    extras: the value without a phase, else from the phases (the current offered on each
    phase is the limit per phase, so the highest; the power offered is their sum)."""
    phases = [values.get(f"current_offered_{phase}") for phase in ("l1", "l2", "l3")]
    currents = [value for value in phases if value is not None]
    powers = [values.get(f"power_offered_{phase}") for phase in ("l1", "l2", "l3")]
    # Summed in decimal: 3 x 3680.1 W is 11040.3 W, not a float's neighbour of it.
    power_sum = (
        None
        if None in powers
        else float(sum((Decimal(str(value)) for value in powers if value is not None), Decimal()))
    )
    current = values.get("current_offered")
    power = values.get("power_offered")
    return {
        "ocpp_current_offered": current if current is not None else max(currents, default=None),
        "ocpp_power_offered": power if power is not None else power_sum,
        "ocpp_soc": values.get("soc"),
    }
