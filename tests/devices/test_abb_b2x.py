"""The ABB B21/B23/B24 profile against its simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import Identity
from custom_components.ev_charging_monitor.devices.modbus.client import ModbusTransport
from custom_components.ev_charging_monitor.devices.modbus.device import (
    ModbusDevice,
    probe_profile,
)
from custom_components.ev_charging_monitor.devices.modbus.profile import shipped_profiles
from simulators.behaviour import ConstantLoad
from simulators.clock import SimClock
from simulators.devices.abb_b2x import AbbB2x

from .conftest import StartSimulator
from .meter_loads import UnbalancedLoad


@pytest.fixture
def load(clock: SimClock) -> UnbalancedLoad:
    """16.07 A at 230.4 V, 9.93 A at 231.2 V, 5.01 A at 228.7 V.

    By hand: 3 702.528 W + 2 295.816 W + 1 145.787 W = 7 144.131 W.
    """
    return UnbalancedLoad(clock, amps=(16.07, 9.93, 5.01), volts=(230.4, 231.2, 228.7))


@pytest.fixture
async def meter(clock: SimClock, load: UnbalancedLoad, start_simulator: StartSimulator) -> AbbB2x:
    """A running B23 at 5 432 100 Wh import, 12 340 Wh export."""
    simulator = AbbB2x(clock, model="B23", load=load, import_wh=5_432_100, export_wh=12_340)
    await start_simulator(simulator)
    return simulator


@pytest.mark.parametrize("model", ["B21", "B23", "B24"])
async def test_identity(
    model: str,
    clock: SimClock,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """The model string at 0x8960 ("B23 " trimmed), serial and firmware."""
    meter = AbbB2x(clock, model=model, serial=7_012_345, firmware="1.2.0")
    await start_simulator(meter)
    device = connect("abb_b2x", meter)
    assert await device.identify() == Identity(
        manufacturer="ABB", model=model, serial="7012345", firmware="1.2.0"
    )
    assert meter.port is not None
    transport = ModbusTransport("127.0.0.1", meter.port, timeout=1.0)
    try:
        assert await probe_profile(transport, shipped_profiles()["abb_b2x"], 1)
    finally:
        await transport.close()


async def test_every_value(meter: AbbB2x, connect: Callable[..., ModbusDevice]) -> None:
    """Each value equals the model, in the meter's units (0.1 V, 0.01 A, 0.01 W, 0.01 kWh)."""
    device = connect("abb_b2x", meter)
    reading = await device.read()
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230.4, 231.2, 228.7)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16.07, 9.93, 5.01)
    # Per phase rounded to 0.01 W: 3 702.53, 2 295.82, 1 145.79; total 7 144.13.
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3702.53, 2295.82, 1145.79)
    assert reading.power == 7144.13
    assert reading.extra["frequency"] == 50
    assert reading.energy == 5_432_100
    assert reading.energy_export == 12_340


async def test_energy_counts_up_with_the_clock(
    meter: AbbB2x, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """An hour at 7 144.131 W: 5 439 244.131 Wh, shown in whole 10 Wh as 5 439 240."""
    device = connect("abb_b2x", meter)
    clock.advance(3600)
    assert (await device.read()).energy == 5_439_240
    clock.advance(4)  # 7.94 Wh more: 5 439 252.07 Wh, the next step is shown
    assert (await device.read()).energy == 5_439_250


async def test_b21_is_single_phase(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """A B21 reports phases 2 and 3 as all ones: None, never 0 or 429 496 729.5 V."""
    meter = AbbB2x(clock, model="B21", load=ConstantLoad(clock, amps=10, phases=1))
    await start_simulator(meter)
    device = connect("abb_b2x", meter)
    reading = await device.read()
    assert (reading.voltage_l1, reading.current_l1) == (230, 10)
    assert (reading.power_l1, reading.power) == (2_300, 2_300)
    assert (reading.voltage_l2, reading.voltage_l3) == (None, None)
    assert (reading.current_l2, reading.current_l3) == (None, None)
    assert (reading.power_l2, reading.power_l3) == (None, None)


async def test_all_ones_read_as_none(meter: AbbB2x, connect: Callable[..., ModbusDevice]) -> None:
    """Every register all ones ("not available"): every value None, then back again."""
    device = connect("abb_b2x", meter)
    meter.faults.garbage = True
    reading = await device.read()
    assert (reading.energy, reading.energy_export, reading.power) == (None, None, None)
    assert (reading.voltage_l1, reading.current_l2, reading.power_l3) == (None, None, None)
    assert reading.extra["frequency"] is None
    meter.faults.garbage = False
    assert (await device.read()).power == 7144.13
