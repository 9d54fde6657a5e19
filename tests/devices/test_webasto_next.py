"""The Webasto Next profile against its simulator (devices.md section 5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.ev_charging_monitor.devices import (
    ChargerState,
    DeviceExceptionResponse,
    Identity,
)
from custom_components.ev_charging_monitor.devices.modbus.device import ModbusDevice
from custom_components.ev_charging_monitor.devices.modbus.profile import Table
from simulators.clock import SimClock
from simulators.devices.webasto_next import WebastoNext
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "webasto_next"


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> WebastoNext:
    """A running Webasto Next with 987 654 Wh on its meter."""
    simulator = WebastoNext(clock, energy_wh=987_654)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: WebastoNext, connect: Callable[..., ModbusDevice]) -> None:
    """No identification registers are documented: the profile names the model."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(manufacturer="Webasto", model="Next")


async def test_idle_then_charging(
    wallbox: WebastoNext, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and after half an hour of charging."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert idle.energy == 987_654
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    # No voltage registers in this map: None, never 0.
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (None, None, None)
    assert idle.session_energy is None
    assert idle.rfid is None
    assert idle.current_limit == 32
    assert idle.enabled is True
    assert idle.extra["communication_timeout"] == 20

    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.charger.swipe("A1B2C3D4E5F6A7B8C9D0")
    for _ in range(180):  # half an hour, the life bit every 10 s
        await device.keep_alive()
        clock.advance(10)
    charging = await device.read()
    # By hand: 3 x 230 V x 16 A = 11 040 W; half an hour: 5 520 Wh.
    assert charging.state is ChargerState.C
    assert charging.extra["charge_point_state"] == 3
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.energy == 987_654 + 5_520
    assert charging.extra["charging_time"] == 1800
    assert charging.rfid == "A1B2C3D4E5F6A7B8C9D0"


async def test_current_limit_and_enable(
    wallbox: WebastoNext, connect: Callable[..., ModbusDevice]
) -> None:
    """Writes reach the simulator, which changes the current it offers."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.keep_alive()
    await device.set_current_limit(10)
    assert (16, 255, 5004, 1) in wallbox.requests  # FC16, as evcc writes it
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 6_900  # 3 x 230 V x 10 A

    await device.set_enabled(False)
    reading = await device.read()
    assert reading.enabled is False
    assert reading.extra["charge_point_state"] == 4
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10
    assert reading.state is ChargerState.C


@pytest.mark.parametrize("failsafe", [0.0, 8.0])
async def test_life_bit_keeps_control(
    failsafe: float,
    clock: SimClock,
    start_simulator: StartSimulator,
    connect: Callable[..., ModbusDevice],
) -> None:
    """The life bit keeps 16 A; without it the charger falls back to its failsafe current."""
    wallbox = WebastoNext(clock, failsafe_current=failsafe)
    await start_simulator(wallbox)
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(16)
    for _ in range(12):  # two minutes of life bits every 10 s (timeout 20 s)
        await device.keep_alive()
        clock.advance(10)
    assert wallbox.writes[-1] == (255, "holding", 6000, [1])
    assert (await device.read()).current_l1 == 16

    clock.advance(21)
    reading = await device.read()
    assert wallbox.charger.watchdog_expired()
    assert reading.current_l1 == failsafe
    assert reading.power == 3 * 230 * failsafe  # 0 W, or 5 520 W at 8 A
    assert reading.state is (ChargerState.C if failsafe else ChargerState.B)

    await device.keep_alive()
    assert (await device.read()).current_l1 == 16


async def test_unmapped_registers_refuse(
    wallbox: WebastoNext, connect: Callable[..., ModbusDevice]
) -> None:
    """Undocumented addresses answer illegal data address; currents are single registers."""
    device = connect(PROFILE, wallbox)
    for table, address in ((Table.HOLDING, 1001), (Table.INPUT, 1009), (Table.HOLDING, 1008)):
        with pytest.raises(DeviceExceptionResponse) as caught:
            await device.transport.read(table, 255, address, 1)
        assert caught.value.code == 2
    plan = [(block.table, block.address, block.count) for block in device.read_plan]
    assert (Table.INPUT, 1008, 1) in plan
    assert (Table.INPUT, 1010, 1) in plan
    assert len(plan) == 11
