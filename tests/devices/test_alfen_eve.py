"""The Alfen Eve profile against its simulator (devices.md section 1)."""

from __future__ import annotations

import struct
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
from simulators.devices.alfen_eve import AlfenEve
from simulators.vehicle import Vehicle

from .conftest import StartSimulator

PROFILE = "alfen_eve"
ENERGY_WH = 3_456_789.25


@pytest.fixture
async def wallbox(clock: SimClock, start_simulator: StartSimulator) -> AlfenEve:
    """A running three-phase Alfen Eve with 3 456 789.25 Wh delivered."""
    simulator = AlfenEve(clock, energy_wh=ENERGY_WH)
    await start_simulator(simulator)
    return simulator


async def test_identity(wallbox: AlfenEve, connect: Callable[..., ModbusDevice]) -> None:
    """Identification comes from the station's unit 200."""
    device = connect(PROFILE, wallbox)
    assert await device.identify() == Identity(
        manufacturer="Alfen NV", model="NG910", serial="ACE0123456", firmware="4.14.0-3398"
    )


async def test_idle_then_charging(
    wallbox: AlfenEve, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Every value equals the simulator's model, idle and after an hour of charging."""
    device = connect(PROFILE, wallbox)
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert (idle.power_l1, idle.power_l2, idle.power_l3) == (0, 0, 0)
    assert idle.energy == ENERGY_WH
    assert (idle.voltage_l1, idle.voltage_l2, idle.voltage_l3) == (230, 230, 230)
    assert (idle.current_l1, idle.current_l2, idle.current_l3) == (0, 0, 0)
    assert idle.session_energy is None  # the station has no session register
    assert idle.rfid is None
    # Not persisted over a reboot: the station starts at its safe current, 6 A.
    assert idle.current_limit == 6
    assert idle.enabled is True
    assert idle.extra["setpoint_validity"] == 60

    await device.set_current_limit(16)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    for _ in range(144):  # one hour, the setpoint re-written every 25 s
        await device.keep_alive()
        clock.advance(25)
    charging = await device.read()
    # By hand: 230 V x 16 A = 3 680 W per phase, 11 040 W in all; 11 040 Wh in an hour.
    assert charging.state is ChargerState.C
    assert charging.extra["mode3_state"] == "C2"
    assert charging.power == 11_040
    assert (charging.power_l1, charging.power_l2, charging.power_l3) == (3_680, 3_680, 3_680)
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert charging.energy == ENERGY_WH + 11_040  # 3 467 829.25 Wh
    assert charging.current_limit == 16
    assert charging.extra["applied_current"] == 16
    assert charging.extra["setpoint_validity"] == 35  # written 25 s ago, valid for 60 s


async def test_single_phase_station_reads_none_for_missing_phases(
    clock: SimClock, start_simulator: StartSimulator, connect: Callable[..., ModbusDevice]
) -> None:
    """A one-phase Eve reports NaN for L2/L3: they read None, never 0."""
    wallbox = AlfenEve(clock, phases=1)
    await start_simulator(wallbox)
    device = connect(PROFILE, wallbox)
    await device.set_current_limit(16)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    reading = await device.read()
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, None, None)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, None, None)
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3_680, None, None)
    assert reading.power == 3_680  # 230 V x 16 A on one phase


async def test_nan_values_read_as_none(
    wallbox: AlfenEve, connect: Callable[..., ModbusDevice]
) -> None:
    """Unavailable float registers (NaN) are None; the state string still reads."""
    device = connect(PROFILE, wallbox)
    wallbox.faults.nan = True
    reading = await device.read()
    assert reading.power is None
    assert reading.energy is None
    assert reading.current_limit is None
    assert reading.enabled is None
    assert reading.state is ChargerState.A


async def test_current_limit_and_enable(
    wallbox: AlfenEve, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Writes reach the simulator, which changes the current it offers."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    reading = await device.read()
    assert wallbox.charger.current_limit == 10
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 6_900  # 3 x 230 V x 10 A
    # One FC16 request carries both words of the float32.
    assert (16, 1, 1210, 2) in wallbox.requests

    await device.set_enabled(False)
    reading = await device.read()
    assert wallbox.charger.current_limit == 0
    assert reading.enabled is False
    assert reading.extra["mode3_state"] == "C1"  # the car wants energy, no PWM
    assert reading.state is ChargerState.B
    assert reading.power == 0

    # The watchdog re-writes what the station holds: a pause stays a pause.
    await device.keep_alive()
    clock.advance(25)
    await device.keep_alive()
    reading = await device.read()
    assert wallbox.charger.current_limit == 0
    assert reading.state is ChargerState.B

    await device.set_enabled(True)
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10
    assert reading.state is ChargerState.C


async def test_watchdog_keeps_setpoint_then_safe_current(
    wallbox: AlfenEve, clock: SimClock, connect: Callable[..., ModbusDevice]
) -> None:
    """Re-writes every 25 s keep 16 A; after the 60 s validity the safe 6 A applies."""
    device = connect(PROFILE, wallbox)
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(16)
    for _ in range(10):
        clock.advance(25)
        await device.keep_alive()
    reading = await device.read()
    assert reading.current_l1 == 16
    assert reading.extra["setpoint_validity"] == 60

    clock.advance(61)  # the energy manager goes quiet
    reading = await device.read()
    assert wallbox.charger.watchdog_expired()
    assert reading.extra["setpoint_validity"] == 0
    assert reading.extra["applied_current"] == 6
    assert reading.current_l1 == 6
    assert reading.power == 4_140  # 3 x 230 V x 6 A
    assert reading.state is ChargerState.C

    await device.keep_alive()
    reading = await device.read()
    assert reading.current_l1 == 16
    assert reading.extra["setpoint_validity"] == 60


async def test_partial_write_of_float_is_refused(
    wallbox: AlfenEve, connect: Callable[..., ModbusDevice]
) -> None:
    """Half a float32 (FC6, or FC16 with one register) is an exception, nothing changes."""
    device = connect(PROFILE, wallbox)
    high, low = struct.unpack(">HH", struct.pack(">f", 16.0))
    with pytest.raises(DeviceExceptionResponse):
        await device.transport.write_registers(1, 1210, [high], multiple=False)
    with pytest.raises(DeviceExceptionResponse):
        await device.transport.write_registers(1, 1210, [high], multiple=True)
    with pytest.raises(DeviceExceptionResponse):
        await device.transport.write_registers(1, 1211, [low], multiple=False)
    assert wallbox.charger.current_limit == 6
    await device.transport.write_registers(1, 1210, [high, low], multiple=True)
    assert wallbox.charger.current_limit == 16


async def test_plan_reads_two_blocks_of_the_socket(
    wallbox: AlfenEve, connect: Callable[..., ModbusDevice]
) -> None:
    """Measurements and control registers are two requests; unmapped addresses refuse."""
    device = connect(PROFILE, wallbox)
    plan = [(block.unit, block.address, block.count) for block in device.read_plan]
    assert plan == [(1, 306, 72), (1, 1201, 13)]
    for address in (426, 1216, 200):
        with pytest.raises(DeviceExceptionResponse) as caught:
            await device.transport.read(Table.HOLDING, 1, address, 1)
        assert caught.value.code == 2
