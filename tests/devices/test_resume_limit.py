"""Resuming a charger paused at 0 A writes the user's last limit, also one from before a
restart (handed to the driver by the integration), never one outside the device's range."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import StartSimulator


def _setpoints(wallbox: VestelEVC04) -> list[int]:
    """Every value written to the EVC04's setpoint register (HR 5004), in order."""
    return [words[0] for _unit, _table, address, words in wallbox.writes if address == 5004]


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> VestelEVC04:
    """An EVC04 (6..32 A, paused by writing 0 A)."""
    simulator = VestelEVC04(clock)
    await start_simulator(simulator)
    return simulator


async def test_pause_and_resume_keep_the_last_limit(
    wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]
) -> None:
    """12 A, a pause by 0 A (which is no limit to resume with), resume: 12 A again."""
    device = connect("vestel_evc04", wallbox)
    await device.set_current_limit(12)
    await device.set_current_limit(0)
    await device.set_enabled(True)
    assert _setpoints(wallbox) == [12, 0, 12]
    assert device.resume_current_a == 12


@pytest.mark.parametrize(
    ("stored", "resumed"),
    [(10.0, 10), (None, 32), (40.0, 32), (3.0, 32), (0.0, 32), (-5.0, 32)],
)
async def test_resume_with_the_limit_from_before_a_restart(
    wallbox: VestelEVC04,
    connect: Callable[..., ModbusDevice],
    stored: float | None,
    resumed: int,
) -> None:
    """A fresh driver resumes with the stored limit when the device allows it, else 32 A."""
    device = connect("vestel_evc04", wallbox, resume_current_a=stored)
    await device.set_enabled(False)
    await device.set_enabled(True)
    assert _setpoints(wallbox) == [0, resumed]
