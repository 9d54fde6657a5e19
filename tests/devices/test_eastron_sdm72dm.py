"""The Eastron SDM72D-M v2 profile against its simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import DeviceExceptionResponse, Identity
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from simulators.behaviour import ChargerModel, ConstantLoad
from simulators.clock import SimClock
from simulators.devices.eastron_sdm72dm import EastronSDM72DM
from simulators.vehicle import Vehicle

from .conftest import StartSimulator
from .meter_loads import UnbalancedLoad

# float32 carries about 7 significant digits: a kWh register near 1 250 kWh is exact to
# about 0.06 Wh.
F32_WH = 0.1


@pytest.fixture
def load(clock: SimClock) -> ConstantLoad:
    """Two amps on each phase: 460 W per phase, 1 380 W in all."""
    return ConstantLoad(clock, amps=2, phases=3)


@pytest.fixture
async def meter(
    clock: SimClock, load: ConstantLoad, start_simulator: StartSimulator
) -> EastronSDM72DM:
    """A running SDM72D-M v2 at 1 234.5 kWh import, 12.5 kWh export."""
    simulator = EastronSDM72DM(clock, load=load, import_kwh=1_234.5, export_kwh=12.5)
    await start_simulator(simulator)
    return simulator


async def test_identity(meter: EastronSDM72DM, connect: Callable[..., ModbusDevice]) -> None:
    """Manufacturer and model come from the profile; the serial is not read."""
    device = connect("eastron_sdm72dm", meter)
    assert await device.identify() == Identity(manufacturer="Eastron", model="SDM72D-M")


async def test_every_value(meter: EastronSDM72DM, connect: Callable[..., ModbusDevice]) -> None:
    """Each value of the profile equals the simulator's model."""
    device = connect("eastron_sdm72dm", meter)
    reading = await device.read()
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (2, 2, 2)
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (460, 460, 460)
    assert reading.power == 1_380
    assert reading.extra["frequency"] == 50
    assert reading.energy == pytest.approx(1_234_500, abs=F32_WH)
    assert reading.energy_export == pytest.approx(12_500, abs=F32_WH)
    # Only documented registers are read, in one request per contiguous run:
    # 0x00..0x11 (voltages, currents, powers), 0x34 (total power), 0x46..0x4B.
    assert [(b.address, b.count) for b in device.read_plan] == [(0, 18), (0x34, 2), (0x46, 6)]


async def test_energy_counts_up_with_the_clock(
    meter: EastronSDM72DM, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Two hours at 1 380 W add 2 760 Wh."""
    device = connect("eastron_sdm72dm", meter)
    before = (await device.read()).energy
    clock.advance(7200)
    after = (await device.read()).energy
    assert after == pytest.approx(1_237_260, abs=F32_WH)
    assert before is not None
    assert after is not None
    assert after - before == pytest.approx(2_760, abs=2 * F32_WH)


async def test_meter_in_front_of_a_charger(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """The meter sees what the charger delivers: 3 x 230 V x 10 A for 30 minutes."""
    charger = ChargerModel(clock, current_limit=10)
    meter = await start_simulator(EastronSDM72DM(clock, load=charger, import_kwh=100))
    device = connect("eastron_sdm72dm", meter)
    assert (await device.read()).power == 0
    charger.plug(Vehicle(max_current=16, phases=3))
    clock.advance(1800)
    reading = await device.read()
    assert reading.power == 6_900
    assert reading.current_l2 == 10
    assert reading.energy == pytest.approx(100_000 + 3_450, abs=F32_WH)


async def test_nan_reads_as_none(
    meter: EastronSDM72DM, connect: Callable[..., ModbusDevice]
) -> None:
    """Registers the meter renders as NaN are None, never 0."""
    device = connect("eastron_sdm72dm", meter)
    meter.faults.nan = True
    reading = await device.read()
    assert reading.power is None
    assert reading.energy is None
    assert reading.energy_export is None
    assert reading.voltage_l2 is None
    assert reading.current_l1 is None
    assert reading.power_l3 is None
    meter.faults.nan = False
    assert (await device.read()).power == 1_380


async def test_exception_then_recovery(
    meter: EastronSDM72DM, connect: Callable[..., ModbusDevice]
) -> None:
    """A refused read raises a typed error; the next poll works."""
    device = connect("eastron_sdm72dm", meter)
    meter.faults.exception_at[("input", 0x34)] = 2
    with pytest.raises(DeviceExceptionResponse) as caught:
        await device.read()
    assert caught.value.code == 2
    meter.faults.exception_at.clear()
    assert (await device.read()).power == 1_380


async def test_each_phase_is_its_own(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """Unbalanced phases: 16 A at 230 V, 10 A at 231 V, 5 A at 228 V.

    Powers 3 680 + 2 310 + 1 140 = 7 130 W; every phase value lands on its own phase.
    """
    meter = await start_simulator(EastronSDM72DM(clock, load=UnbalancedLoad(clock), import_kwh=100))
    device = connect("eastron_sdm72dm", meter)
    reading = await device.read()
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 10, 5)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 231, 228)
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3680, 2310, 1140)
    assert reading.power == 7_130
    clock.advance(3600)
    assert (await device.read()).energy == pytest.approx(107_130, abs=F32_WH)
