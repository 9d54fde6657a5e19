"""OCPP 2.0.1 sampled values as reading fields (Home Assistant-free).

Unlike 1.6, a value is a JSON number and its unit is `unitOfMeasure` {unit, multiplier}:
the value times 10^multiplier is in `unit` (default Wh). A missing measurand is the energy
register. Values are scaled in decimal, so that a register of 1234.567 kWh is 1234567 Wh
exactly, not a float's neighbour of it. A value that is no finite number, or a unit that
does not fit the measurand, is skipped. A `signedMeterValue` is signed.py's
(`signed_values_201`): here only its sampled value's plain number is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from .meter_values import (
    ENERGY,
    SIGNAL_UNITS,
    MeterSample,
    field_name,
    location_fits,
    place,
    scaled,
)

# Each field's base unit and the units it accepts, with their factor to the base unit.
_UNITS: Final[dict[str, dict[str, int]]] = {
    "energy": {"Wh": 0, "kWh": 3},
    "power": {"W": 0, "kW": 3},
    "current": {"A": 0},
    "voltage": {"V": 0},
    **SIGNAL_UNITS,
}
# The spec's default unit when unitOfMeasure or its unit is missing (Wh, as the spec says,
# fits no limit or state of charge: theirs is the only unit they can have).
_DEFAULT_UNIT: Final = {name: next(iter(units)) for name, units in _UNITS.items()}
# A multiplier beyond this is no meter's (and 10^huge would take a while to compute).
_MAX_MULTIPLIER: Final = 9


def _number(value: object, name: str, unit_of_measure: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    unit, multiplier = _DEFAULT_UNIT[name], 0
    if isinstance(unit_of_measure, Mapping):
        unit = str(unit_of_measure.get("unit") or unit)
        raw_multiplier = unit_of_measure.get("multiplier", 0)
        if isinstance(raw_multiplier, bool) or not isinstance(raw_multiplier, int):
            return None
        multiplier = raw_multiplier
    exponent = _UNITS[name].get(unit)
    if exponent is None or abs(multiplier) > _MAX_MULTIPLIER:
        return None
    return scaled(value, exponent + multiplier)


def parse_meter_values_201(meter_values: Iterable[Mapping[str, Any]]) -> MeterSample:
    """Reading fields (`energy`, `power`, `current_l1`, ...) from 2.0.1 meter values.

    `meter_values` are a message's `meterValue` entries with snake_case keys, as the
    ocpp library hands them over. Later entries win over earlier ones.
    """
    sample = MeterSample()
    for meter_value in meter_values:
        sampled_values = meter_value.get("sampled_value")
        if not isinstance(sampled_values, list):
            continue
        for sampled in sampled_values:
            if not isinstance(sampled, Mapping):
                continue
            name = field_name(sampled.get("measurand", ENERGY))
            if name is None or not location_fits(name, sampled.get("location")):
                continue
            value = _number(sampled.get("value"), name, sampled.get("unit_of_measure"))
            if value is not None:
                phase = sampled.get("phase")
                place(sample, name, None if phase is None else str(phase), value)
    return sample
