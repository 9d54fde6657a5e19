"""The Eastron SDM120 profile against its simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import Identity
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.devices.eastron_sdm120 import EastronSDM120

from .conftest import StartSimulator

# float32 near 330 kWh is exact to about 0.03 Wh.
F32_WH = 0.05


@pytest.fixture
def load(clock: SimClock) -> ConstantLoad:
    """One phase at 10 A and 230 V: 2 300 W."""
    return ConstantLoad(clock, amps=10, phases=1)


@pytest.fixture
async def meter(
    clock: SimClock, load: ConstantLoad, start_simulator: StartSimulator
) -> EastronSDM120:
    """A running SDM120 at 321 kWh import, 0.5 kWh export."""
    simulator = EastronSDM120(clock, load=load, import_kwh=321, export_kwh=0.5)
    await start_simulator(simulator)
    return simulator


async def test_identity(meter: EastronSDM120, connect: Callable[..., ModbusDevice]) -> None:
    """Manufacturer and model come from the profile."""
    device = connect("eastron_sdm120", meter)
    assert await device.identify() == Identity(manufacturer="Eastron", model="SDM120")


async def test_every_value(meter: EastronSDM120, connect: Callable[..., ModbusDevice]) -> None:
    """Each value of the single-phase subset equals the model; phases 2 and 3 are None."""
    device = connect("eastron_sdm120", meter)
    assert device.capabilities.phases == 1
    reading = await device.read()
    assert reading.voltage_l1 == 230
    assert reading.current_l1 == 10
    assert reading.power_l1 == 2_300
    assert reading.power == 2_300
    assert reading.extra["frequency"] == 50
    assert reading.energy == pytest.approx(321_000, abs=F32_WH)
    assert reading.energy_export == pytest.approx(500, abs=F32_WH)
    assert (reading.voltage_l2, reading.current_l3, reading.power_l2) == (None, None, None)


async def test_energy_counts_up_with_the_clock(
    meter: EastronSDM120,
    clock: SimClock,
    load: ConstantLoad,
    connect: Callable[..., ModbusDevice],
) -> None:
    """Ninety minutes at 2 300 W add 3 450 Wh; then 15 minutes at 0 W add nothing."""
    device = connect("eastron_sdm120", meter)
    clock.advance(5400)
    assert (await device.read()).energy == pytest.approx(324_450, abs=F32_WH)
    load.set_amps(0)
    clock.advance(900)
    reading = await device.read()
    assert reading.power == 0
    assert reading.energy == pytest.approx(324_450, abs=F32_WH)


async def test_nan_reads_as_none(
    meter: EastronSDM120, connect: Callable[..., ModbusDevice]
) -> None:
    """Registers the meter renders as NaN are None, never 0."""
    device = connect("eastron_sdm120", meter)
    meter.faults.nan = True
    reading = await device.read()
    assert (reading.power, reading.energy, reading.energy_export) == (None, None, None)
    assert (reading.voltage_l1, reading.current_l1) == (None, None)
    meter.faults.nan = False
    assert (await device.read()).power == 2_300
