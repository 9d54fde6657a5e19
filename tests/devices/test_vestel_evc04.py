"""The Vestel EVC04 profile against its simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import (
    ChargerState,
    DeviceExceptionResponse,
    Identity,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .conftest import StartSimulator


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> VestelEVC04:
    """A running Vestel simulator."""
    simulator = VestelEVC04(clock, energy_wh=1_234_500)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: VestelEVC04, connect: Callable[..., ModbusDevice]) -> None:
    """Manufacturer, model, serial and firmware come from the UTF-16 registers."""
    device = connect("vestel_evc04", wallbox)
    assert await device.identify() == Identity(
        manufacturer="Vestel", model="EVC04", serial="VES2024000123", firmware="v3.187.0-240419"
    )


async def test_idle_then_charging(
    wallbox: VestelEVC04, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and while a car charges."""
    device = connect("vestel_evc04", wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert idle.energy == 1_234_500
    assert idle.rfid is None
    assert idle.current_limit == 32
    assert idle.enabled is True

    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.charger.swipe("04A2B3C4D5")
    for _ in range(360):  # half an hour, with the heartbeat every 5 s
        await device.keep_alive()
        clock.advance(5)
    charging = await device.read()
    # 3 phases x 230 V x 16 A for half an hour, by hand: 11 040 W, 5 520 Wh.
    assert charging.state is ChargerState.C
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert (charging.voltage_l1, charging.voltage_l2, charging.voltage_l3) == (230, 230, 230)
    assert charging.session_energy == 5_520
    # The total register counts in 0.1 kWh: 1 240 020 Wh reads as 1 240 000.
    assert charging.energy == 1_240_000
    assert charging.rfid == "04A2B3C4D5"
    assert charging.extra["charging_time"] == 1800


async def test_current_limit_and_enable(
    wallbox: VestelEVC04, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Writes reach the simulator, which changes the current it offers."""
    device = connect("vestel_evc04", wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.keep_alive()
    await device.set_current_limit(10)
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10

    await device.set_enabled(False)
    reading = await device.read()
    assert reading.enabled is False
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10  # the limit set before pausing comes back
    assert reading.state is ChargerState.C

    with pytest.raises(ValueError, match=r"outside 6\.0\.\.32\.0 A"):
        await device.set_current_limit(40)
    assert wallbox.charger.current_limit == 10


async def test_watchdog_keeps_control(
    wallbox: VestelEVC04, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Heartbeats keep the setpoint; without them the box falls back to its failsafe current."""
    device = connect("vestel_evc04", wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(16)
    for _ in range(12):  # a minute of heartbeats every 5 s (timeout 20 s)
        await device.keep_alive()
        clock.advance(5)
    assert (await device.read()).current_l1 == 16

    clock.advance(21)  # the heartbeat stops for longer than the factory timeout of 20 s
    reading = await device.read()
    assert wallbox.charger.watchdog_expired()
    assert reading.current_l1 == 6  # the factory failsafe current: the box charges on its own
    assert reading.extra["failsafe_current"] == 6
    assert reading.extra["failsafe_timeout"] == 20

    await device.keep_alive()
    assert (await device.read()).current_l1 == 16


async def test_failsafe_current_and_timeout_are_written(
    wallbox: VestelEVC04, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """HR 2000 = 0 A and HR 2002 = 10 s: silence stops the car after 10 s, not before."""
    device = connect("vestel_evc04", wallbox)
    assert device.capabilities.can_set_failsafe_current
    assert device.capabilities.can_set_failsafe_timeout
    await device.set_failsafe(current_a=0, timeout_s=10)
    reading = await device.read()
    assert (reading.extra["failsafe_current"], reading.extra["failsafe_timeout"]) == (0, 10)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(16)
    await device.keep_alive()
    clock.advance(9)
    assert (await device.read()).current_l1 == 16
    clock.advance(2)
    reading = await device.read()
    assert reading.current_l1 == 0
    assert reading.state is ChargerState.B
    # A timeout of 0 switches the fallback off: the setpoint stays, however long the silence.
    await device.set_failsafe(timeout_s=0)
    await device.keep_alive()
    clock.advance(3600)
    assert (await device.read()).current_l1 == 16


async def test_firmware_without_failsafe_current_register(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """HR 2000 refused: the poll still succeeds, the value is None, the write raises."""
    wallbox = VestelEVC04(clock, has_failsafe_current_register=False)
    await start_simulator(wallbox)
    device = connect("vestel_evc04", wallbox)
    reading = await device.read()
    assert reading.state is ChargerState.A
    assert reading.extra["failsafe_current"] is None
    assert reading.extra["failsafe_timeout"] == 20
    with pytest.raises(DeviceExceptionResponse):
        await device.set_failsafe(current_a=0)
    assert wallbox.charger.safe_current == 6
