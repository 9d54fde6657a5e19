"""The lead's Eastron SDM630 profile against its simulator: every value, NaN, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import DeviceExceptionResponse, Identity
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.devices.eastron_sdm630 import EastronSDM630

from .conftest import StartSimulator
from .meter_loads import UnbalancedLoad

# float32 carries about 7 significant digits: a kWh register near 5 443 kWh is exact to
# about 0.5 Wh, so energies are compared within that.
F32_WH = 0.5


@pytest.fixture
def load(clock: SimClock) -> ConstantLoad:
    """Three phases at 16 A and 230 V: 3 680 W per phase, 11 040 W in all."""
    return ConstantLoad(clock, amps=16, phases=3)


@pytest.fixture
async def meter(
    clock: SimClock, load: ConstantLoad, start_simulator: StartSimulator
) -> EastronSDM630:
    """A running SDM630 simulator at 5 432.1 kWh."""
    simulator = EastronSDM630(clock, load=load, serial=21_345_678, import_kwh=5_432.1)
    await start_simulator(simulator)
    return simulator


async def test_identity(meter: EastronSDM630, connect: Callable[..., ModbusDevice]) -> None:
    """The model is fixed by the profile; the serial comes from HR 0xFC00."""
    device = connect("eastron_sdm630", meter)
    assert await device.identify() == Identity(
        manufacturer="Eastron", model="SDM630", serial="21345678"
    )


async def test_every_value(meter: EastronSDM630, connect: Callable[..., ModbusDevice]) -> None:
    """Each value of the profile equals the simulator's model."""
    device = connect("eastron_sdm630", meter)
    reading = await device.read()
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 16, 16)
    # 230 V x 16 A = 3 680 W per phase, 11 040 W in all: exact in float32.
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 3680, 3680)
    assert reading.power == 11_040
    assert reading.extra["frequency"] == 50
    assert reading.energy == pytest.approx(5_432_100, abs=F32_WH)
    assert reading.energy_export == 0
    assert reading.state is None
    assert reading.session_energy is None


async def test_energy_counts_up_with_the_clock(
    meter: EastronSDM630,
    clock: SimClock,
    load: ConstantLoad,
    connect: Callable[..., ModbusDevice],
) -> None:
    """An hour at 11 040 W adds 11.04 kWh; a changed load changes the slope."""
    device = connect("eastron_sdm630", meter)
    clock.advance(3600)
    assert (await device.read()).energy == pytest.approx(5_443_140, abs=F32_WH)
    load.set_amps(8)  # 3 x 230 V x 8 A = 5 520 W
    clock.advance(1800)  # half an hour: 2 760 Wh
    reading = await device.read()
    assert reading.power == 5_520
    assert reading.energy == pytest.approx(5_445_900, abs=F32_WH)
    assert meter.meter.import_wh() == pytest.approx(5_445_900)


async def test_nan_reads_as_none(
    meter: EastronSDM630, connect: Callable[..., ModbusDevice]
) -> None:
    """Registers the meter renders as NaN are None, never 0; they come back afterwards."""
    device = connect("eastron_sdm630", meter)
    meter.faults.nan = True
    reading = await device.read()
    assert reading.power is None
    assert reading.energy is None
    assert reading.energy_export is None
    assert reading.voltage_l1 is None
    assert reading.current_l3 is None
    assert reading.power_l2 is None
    assert reading.extra["frequency"] is None
    meter.faults.nan = False
    assert (await device.read()).power == 11_040


async def test_exception_then_recovery(
    meter: EastronSDM630, connect: Callable[..., ModbusDevice]
) -> None:
    """A gateway that answers 'device failure' raises a typed error; the next poll works."""
    device = connect("eastron_sdm630", meter)
    meter.faults.exception = 4
    with pytest.raises(DeviceExceptionResponse) as caught:
        await device.read()
    assert caught.value.code == 4
    meter.faults.exception = None
    assert (await device.read()).power == 11_040


async def test_each_phase_is_its_own(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """Unbalanced phases: 16 A at 230 V, 10 A at 231 V, 5 A at 228 V.

    Powers 3 680 + 2 310 + 1 140 = 7 130 W; every phase value lands on its own phase.
    """
    meter = await start_simulator(EastronSDM630(clock, load=UnbalancedLoad(clock), import_kwh=100))
    device = connect("eastron_sdm630", meter)
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 10, 5)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 231, 228)
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 2310, 1140)
    assert reading.power == 7_130
    clock.advance(3600)
    assert (await device.read()).energy == pytest.approx(107_130, abs=F32_WH)
