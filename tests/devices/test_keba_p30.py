"""The KEBA P30 profile against its simulator (devices.md section 10a)."""

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
from simulators.devices.keba_p30 import KebaP30
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "keba_p30"
ENERGY_WH = 4_567_890.5


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> KebaP30:
    """A running P30 with 4 567 890.5 Wh on its meter."""
    simulator = KebaP30(clock, energy_wh=ENERGY_WH)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: KebaP30, connect: Callable[..., ModbusDevice]) -> None:
    """Model is the product code, serial the decimal serial number."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(
        manufacturer="KEBA", model="311011", serial="22334455", firmware=None
    )


async def test_idle_then_charging(
    wallbox: KebaP30, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and after an hour of charging."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert idle.energy == ENERGY_WH  # 45 678 905 x 0.1 Wh
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (230, 230, 230)
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    assert idle.rfid is None  # UID register 0: no card
    # The control registers are write-only: no limit or enable state to read, never 0.
    assert idle.current_limit is None
    assert idle.enabled is None
    assert idle.session_energy is None
    assert idle.extra["failsafe_timeout"] == 30

    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.swipe(bytes.fromhex("04A2B3C4"))
    for _ in range(240):  # one hour, heartbeat every 15 s
        await device.keep_alive()
        clock.advance(15)
    charging = await device.read()
    # By hand: 3 x 230 V x 16 A = 11 040 W (11 040 000 mW); 11 040 Wh in the hour.
    assert charging.state is ChargerState.C
    assert charging.extra["charging_state"] == 3
    assert charging.power == 11_040
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.energy == 4_578_930.5
    assert charging.rfid == "04A2B3C4"


async def test_authorisation_by_rfid(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """With authorisation on, a plugged car waits (state 1) until a card is swiped."""
    wallbox = await start_simulator(KebaP30(clock, authorization=True))
    assert isinstance(wallbox, KebaP30)
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=1))
    waiting = await device.read()
    assert waiting.state is ChargerState.B
    assert waiting.extra["charging_state"] == 1
    assert waiting.power == 0
    assert waiting.rfid is None

    wallbox.swipe(bytes.fromhex("DEADBEEF"))
    charging = await device.read()
    assert charging.state is ChargerState.C
    assert charging.rfid == "DEADBEEF"
    assert charging.power == 3_680  # one phase, 230 V x 16 A
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 0, 0)


async def test_current_limit_and_enable(
    wallbox: KebaP30, connect: Callable[..., ModbusDevice]
) -> None:
    """Writes (mA setpoint, separate enable register) change what the box offers."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    assert wallbox.writes[-1] == (255, "holding", 5004, [10_000])  # mA, FC6
    assert (6, 255, 5004, 1) in wallbox.requests
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 6_900  # 3 x 230 V x 10 A

    await device.set_enabled(False)
    assert wallbox.writes[-1] == (255, "holding", 5014, [0])
    reading = await device.read()
    assert wallbox.charger.enabled is False
    assert reading.extra["charging_state"] == 5  # suspended
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.state is ChargerState.C
    assert reading.current_l1 == 10

    with pytest.raises(ValueError, match="outside"):
        await device.set_current_limit(33)


async def test_watchdog_keeps_control(
    wallbox: KebaP30, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Re-writing the failsafe timeout keeps 16 A; silence falls back to the failsafe 6 A."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(16)
    for _ in range(8):  # two minutes of heartbeats every 15 s (timeout 30 s)
        await device.keep_alive()
        clock.advance(15)
    assert wallbox.writes[-1] == (255, "holding", 5018, [30])
    assert (await device.read()).current_l1 == 16

    clock.advance(31)
    reading = await device.read()
    assert wallbox.charger.watchdog_expired()
    assert reading.current_l1 == 6  # the failsafe current
    assert reading.power == 4_140  # 3 x 230 V x 6 A
    assert reading.state is ChargerState.C

    await device.keep_alive()
    assert (await device.read()).current_l1 == 16


async def test_reads_never_cross_value_boundaries(
    wallbox: KebaP30, connect: Callable[..., ModbusDevice]
) -> None:
    """The box refuses reads that are not exactly one value; the plan reads each alone."""
    device = connect(PROFILE, wallbox)
    for address, count in ((1000, 4), (1000, 1), (1001, 2), (1008, 6), (5004, 1)):
        with pytest.raises(DeviceExceptionResponse) as caught:
            await device.transport.read(Table.HOLDING, 255, address, count)
        assert caught.value.code == 2
    plan = device.read_plan
    assert all(block.count == 2 and len(block.specs) == 1 for block in plan)
    assert len(plan) == len(device.profile.values) == 12
    before = len(wallbox.requests)
    reading = await device.read()
    assert reading.energy == ENERGY_WH
    assert len(wallbox.requests) - before == 12


async def test_uid_ending_in_zero_byte(
    wallbox: KebaP30, connect: Callable[..., ModbusDevice]
) -> None:
    """A 4-byte UID is shown whole, even when its last byte is 0."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle())
    wallbox.swipe(bytes.fromhex("04A2B300"))
    assert (await device.read()).rfid == "04A2B300"
