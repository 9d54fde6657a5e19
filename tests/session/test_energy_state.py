"""Energy states of other integrations in Wh, as the "any energy sensor" source reads them."""

from __future__ import annotations

import math

import pytest
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import State

from custom_components.ev_charging_monitor.energy_source import state_energy_wh


def _state(value: str, unit: str | None) -> State:
    attributes = {} if unit is None else {ATTR_UNIT_OF_MEASUREMENT: unit}
    return State("sensor.meter_energy", value, attributes)


def test_kwh_with_three_decimals_is_exact_in_wh() -> None:
    """Every 3-decimal kWh state is a whole number of Wh (a float product is not, e.g. 1.4 %)."""
    for wh in range(0, 2_000_000, 7):
        assert state_energy_wh(_state(f"{wh // 1000}.{wh % 1000:03d}", "kWh")) == wh


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("1234567", "Wh", 1_234_567),
        ("1.234567", "MWh", 1_234_567),
        ("4.5", "GJ", 1_250_000),  # 4.5e9 J / 3600 J per Wh
    ],
)
def test_units(value: str, unit: str, expected: float) -> None:
    result = state_energy_wh(_state(value, unit))
    assert result is not None
    assert math.isclose(result, expected, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        ("nan", "kWh"),
        ("inf", "kWh"),
        ("-inf", "Wh"),
        ("unknown", "kWh"),
        ("12", None),
        ("12", "W"),
        ("", "kWh"),
        ("1e999999", "kWh"),
    ],
)
def test_no_register(value: str, unit: str | None) -> None:
    assert state_energy_wh(_state(value, unit)) is None
