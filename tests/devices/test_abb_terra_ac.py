"""The ABB Terra AC profile against its simulator (devices.md section 2)."""

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
from simulators.devices.abb_terra_ac import AbbTerraAC
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "abb_terra_ac"


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> AbbTerraAC:
    """A running Terra AC."""
    simulator = AbbTerraAC(clock)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: AbbTerraAC, connect: Callable[..., ModbusDevice]) -> None:
    """The serial is 8 bytes shown as hex."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(
        manufacturer="ABB", model="Terra AC", serial=wallbox.serial.hex().upper()
    )
    assert wallbox.serial.hex().upper() == "1A2B3C4D5E6F7081"


async def test_idle_then_charging(
    wallbox: AbbTerraAC, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and after half an hour of charging."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.extra["charging_state"] == 0
    assert idle.power == 0
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (230, 230, 230)  # 2 300 x 0.1
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    assert idle.energy is None  # no lifetime register: None, never 0
    assert idle.session_energy == 0
    assert idle.current_limit == 32
    assert idle.enabled is True
    assert idle.extra["max_rated_current"] == 32
    assert idle.extra["error_code"] == 0

    wallbox.plug(Vehicle(max_current=16, phases=3))
    for _ in range(60):  # half an hour, a keep-alive read every 30 s
        await device.keep_alive()
        clock.advance(30)
    charging = await device.read()
    # By hand: 3 x 230 V x 16 A = 11 040 W; half an hour: 5 520 Wh.
    assert charging.state is ChargerState.C
    # The state byte is masked out of a register whose other bits are set.
    assert charging.extra["charging_state"] == 4
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.session_energy == 5_520
    assert charging.extra["socket_lock"] == 0x0111


async def test_current_limit_and_enable(
    wallbox: AbbTerraAC, connect: Callable[..., ModbusDevice]
) -> None:
    """The mA setpoint is one FC16 write of two registers; 0 pauses."""
    device = connect(PROFILE, wallbox)
    wallbox.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    assert wallbox.writes[-1] == (1, "holding", 0x4100, [0, 10_000])
    assert (16, 1, 0x4100, 2) in wallbox.requests
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 6_900  # 3 x 230 V x 10 A

    await device.set_enabled(False)
    reading = await device.read()
    assert reading.enabled is False
    assert reading.extra["charging_state"] == 3  # C1: the car is ready, no PWM
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10
    assert reading.state is ChargerState.C


async def test_keep_alive_reads_hold_the_link(
    wallbox: AbbTerraAC, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Reads every 30 s keep 16 A; a silent link falls back to 0 A after 60 s."""
    device = connect(PROFILE, wallbox)
    wallbox.plug(Vehicle(max_current=16, phases=3))
    await device.set_current_limit(16)
    for _ in range(10):  # five minutes of keep-alive reads
        await device.keep_alive()
        clock.advance(30)
    reading = await device.read()
    assert reading.current_l1 == 16
    # 11 040 W for 300 s = 920 Wh.
    assert reading.session_energy == 920

    clock.advance(3600)  # no request for an hour
    assert wallbox.charger.watchdog_expired()
    assert wallbox.charger.offered_current() == 0
    assert wallbox.render_error_code() & 16384
    # Any request revives the link, so the poll sees 16 A again; but the energy shows
    # that the box stopped 60 s into the silence: 920 Wh + 11 040 W x 60 s = 1 104 Wh.
    reading = await device.read()
    assert reading.session_energy == 1_104
    assert reading.current_l1 == 16
    assert reading.extra["error_code"] == 0


async def test_stopped_session_state_follows_the_lock(
    wallbox: AbbTerraAC, connect: Callable[..., ModbusDevice]
) -> None:
    """State 5 is B while cable and EV are on the socket, A once the EV has left."""
    device = connect(PROFILE, wallbox)
    wallbox.plug(Vehicle(max_current=16, phases=3))
    await device.transport.write_registers(1, 0x4105, [1], multiple=False)  # stop
    reading = await device.read()
    assert reading.extra["charging_state"] == 5
    assert reading.extra["socket_lock"] == 0x0101
    assert reading.state is ChargerState.B
    assert reading.power == 0

    wallbox.charger.unplug()
    reading = await device.read()
    assert reading.extra["charging_state"] == 5
    assert reading.extra["socket_lock"] == 0
    assert reading.state is ChargerState.A

    wallbox.plug(Vehicle(max_current=16, phases=3))
    assert (await device.read()).state is ChargerState.C


async def test_write_only_and_unmapped_registers(
    wallbox: AbbTerraAC, connect: Callable[..., ModbusDevice]
) -> None:
    """Control registers cannot be read, half a uint32 cannot be written; one poll reads
    the whole table in one request."""
    device = connect(PROFILE, wallbox)
    for address in (0x4100, 0x4020, 0x3FFF):
        with pytest.raises(DeviceExceptionResponse) as caught:
            await device.transport.read(Table.HOLDING, 1, address, 1)
        assert caught.value.code == 2
    with pytest.raises(DeviceExceptionResponse):
        await device.transport.write_registers(1, 0x4100, [10_000], multiple=False)
    assert wallbox.charger.current_limit == 32
    plan = [(block.address, block.count) for block in device.read_plan]
    assert plan == [(0x4006, 26)]
