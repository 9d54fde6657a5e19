"""The Phoenix Contact EV-ETH profile against its simulator (devices.md section 3)."""

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
from simulators.devices.phoenix_ev_eth import PhoenixEvEth
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "phoenix_ev_eth"


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> PhoenixEvEth:
    """A running EV-ETH controller with 1 234 567 Wh on its meter."""
    simulator = PhoenixEvEth(clock, energy_wh=1_234_567)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: PhoenixEvEth, connect: Callable[..., ModbusDevice]) -> None:
    """The firmware string is byte-swapped ASCII in IR 105."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(
        manufacturer="Phoenix Contact", model="EV-CC-AC1-M3", firmware=wallbox.firmware
    )
    assert wallbox.firmware == "1.43"


async def test_idle_then_charging(
    wallbox: PhoenixEvEth, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model; 32-bit values are low word first."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.extra["cp_state"] == ord("A")
    assert idle.power == 0
    assert idle.energy == 1_234_567  # > 65 535: a wrong word order would show
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (230, 230, 230)
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    assert idle.rfid is None  # empty UID registers: None, not ""
    assert idle.current_limit == 32
    assert idle.enabled is True

    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.charger.swipe("0123456789ABCDEF")
    clock.advance(3600)
    charging = await device.read()
    # By hand: 3 x 230 V x 16 A = 11 040 W; 11 040 Wh in the hour.
    assert charging.state is ChargerState.C
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.energy == 1_234_567 + 11_040
    assert charging.extra["charging_time"] == 3600
    assert charging.rfid == "0123456789ABCDEF"


async def test_current_limit_and_enable_coil(
    wallbox: PhoenixEvEth, connect: Callable[..., ModbusDevice]
) -> None:
    """The limit goes to HR 528 (FC6), enable to coil 400 (FC5); the box reacts."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    assert (6, 255, 528, 1) in wallbox.requests
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 6_900  # 3 x 230 V x 10 A

    await device.set_enabled(False)
    assert (5, 255, 400, 1) in wallbox.requests
    reading = await device.read()
    assert wallbox.charger.enabled is False
    assert reading.enabled is False
    assert reading.state is ChargerState.B
    assert reading.power == 0
    assert reading.current_limit == 10  # the limit stays; only the coil switched

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.state is ChargerState.C


async def test_no_heartbeat_needed(
    wallbox: PhoenixEvEth, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """No watchdog is documented: keep_alive sends nothing and the limit holds for a day."""
    device = connect(PROFILE, wallbox)
    assert device.profile.watchdog is None
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(12)
    before = len(wallbox.requests)
    await device.keep_alive()
    assert len(wallbox.requests) == before
    clock.advance(86_400)
    assert (await device.read()).current_l1 == 12


async def test_fault_state(wallbox: PhoenixEvEth, connect: Callable[..., ModbusDevice]) -> None:
    """'F' in IR 100 is the EVSE fault state."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.set_fault(True)
    reading = await device.read()
    assert reading.extra["cp_state"] == ord("F")
    assert reading.state is ChargerState.F


async def test_unmapped_registers_refuse(
    wallbox: PhoenixEvEth, connect: Callable[..., ModbusDevice]
) -> None:
    """Undocumented addresses answer illegal data address; one poll is seven requests."""
    device = connect(PROFILE, wallbox)
    for table, address in ((Table.INPUT, 101), (Table.HOLDING, 529), (Table.INPUT, 128)):
        with pytest.raises(DeviceExceptionResponse) as caught:
            await device.transport.read(table, 255, address, 1)
        assert caught.value.code == 2
    plan = [(block.table, block.address, block.count) for block in device.read_plan]
    assert plan == [
        (Table.COIL, 400, 1),
        (Table.HOLDING, 528, 1),
        (Table.HOLDING, 606, 16),
        (Table.HOLDING, 904, 2),
        (Table.INPUT, 100, 1),
        (Table.INPUT, 102, 2),
        (Table.INPUT, 108, 14),
    ]
