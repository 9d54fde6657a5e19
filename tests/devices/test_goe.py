"""The go-e HTTP API v2 driver against its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from custom_components.ev_charging_monitor.devices import (
    ChargerState,
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceTimeoutError,
    Identity,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.base import Device
from custom_components.ev_charging_monitor.devices.http import (
    HTTP_DRIVERS,
    GoeCharger,
    HttpStatusError,
)
from simulators.base import Simulator
from simulators.clock import SimClock
from simulators.devices.goe_v2 import GoeV2
from simulators.devices.shelly_em_gen1 import ShellyEMGen1Simulator
from simulators.devices.shelly_pro3em import ShellyPro3EMSimulator
from simulators.vehicle import Vehicle

type Serve = Callable[[Simulator], Awaitable[int]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start simulators on ephemeral loopback ports; stop them after the test."""
    started: list[Simulator] = []

    async def start(simulator: Simulator) -> int:
        port = await simulator.start("127.0.0.1", 0)
        started.append(simulator)
        return port

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session owned by the test, as Home Assistant's shared one is by HA."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def wallbox(clock: SimClock, serve: Serve) -> GoeV2:
    """A running 22 kW go-e simulator with 2 345 678 Wh on its counter."""
    simulator = GoeV2(clock, energy_wh=2_345_678)
    await serve(simulator)
    return simulator


@pytest.fixture
async def device(wallbox: GoeV2, session: aiohttp.ClientSession) -> AsyncIterator[GoeCharger]:
    """The driver, talking to the simulator through the test's session."""
    driver = GoeCharger("127.0.0.1", port=wallbox.port, session=session, timeout=0.5)
    yield driver
    await driver.close()


EXPECTED_IDENTITY = Identity(
    manufacturer="go-e", model="go-eCharger", serial="204017", firmware="56.11"
)


def test_exported() -> None:
    """The driver is listed with its id and offers the Device protocol (checked by mypy)."""
    assert GoeCharger in HTTP_DRIVERS
    assert GoeCharger.id == "goe_v2" == GoeV2.name
    device: Device = GoeCharger("127.0.0.1")
    assert device.capabilities.can_set_current
    assert device.watchdog_interval is None


async def test_identity_and_detect(
    wallbox: GoeV2, device: GoeCharger, session: aiohttp.ClientSession
) -> None:
    """identify() and detect() report the simulator's serial, type, OEM and firmware."""
    assert await device.identify() == EXPECTED_IDENTITY
    assert await GoeCharger.detect("127.0.0.1", session, port=wallbox.port) == EXPECTED_IDENTITY
    # One filtered status request each, asking for the identity keys.
    assert [path for path, _query in wallbox.requests] == ["/api/status", "/api/status"]
    assert set(wallbox.requests[0][1]["filter"].split(",")) >= {"sse", "typ", "fwv"}


async def test_idle_then_charging_three_phases(
    wallbox: GoeV2, device: GoeCharger, clock: SimClock
) -> None:
    """Every value equals the simulator's model, idle and while a car charges."""
    idle = await device.read()
    assert idle.state is ChargerState.A
    assert idle.power == 0
    assert idle.energy == 2_345_678
    assert idle.current_limit == 16
    assert idle.enabled is True  # force state neutral: the box may charge
    assert idle.rfid is None
    assert idle.extra["transaction"] is None
    assert idle.extra["allowed"] is True

    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    wallbox.swipe_card(1)
    clock.advance(1800)
    charging = await device.read()
    # By hand: 3 phases x 230 V x 16 A = 11 040 W; for half an hour 5 520 Wh.
    assert charging.state is ChargerState.C
    assert charging.power == 11_040
    assert (charging.power_l1, charging.power_l2, charging.power_l3) == (3680, 3680, 3680)
    assert (charging.current_l1, charging.current_l2, charging.current_l3) == (16, 16, 16)
    assert (charging.voltage_l1, charging.voltage_l2, charging.voltage_l3) == (230, 230, 230)
    assert charging.session_energy == 5_520
    assert charging.energy == 2_345_678 + 5_520
    assert charging.rfid == "Bob"
    assert charging.extra["transaction"] == 2
    assert charging.energy_export is None

    clock.advance(600)  # ten more minutes: 1 840 Wh more, counted on the simulator clock
    later = await device.read()
    assert later.session_energy == 5_520 + 1_840
    assert later.energy == 2_345_678 + 7_360


async def test_single_phase_car_keeps_phase_order(
    wallbox: GoeV2, device: GoeCharger, clock: SimClock
) -> None:
    """A one-phase car draws on L1 only: the nrg indices of L1..L3 are not mixed up."""
    wallbox.charger.plug(Vehicle(max_current=13, phases=1))
    wallbox.start_without_card()
    clock.advance(3600)
    reading = await device.read()
    # By hand: 230 V x 13 A = 2 990 W on L1; for an hour 2 990 Wh.
    assert reading.power == 2_990
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (2_990, 0, 0)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (13, 0, 0)
    assert reading.session_energy == 2_990
    assert reading.rfid is None  # started without a card
    assert reading.extra["transaction"] == 0


async def test_complete_and_error_states(
    wallbox: GoeV2, device: GoeCharger, clock: SimClock
) -> None:
    """A full car is state B (go-e "complete"), a box error is state F."""
    wallbox.charger.plug(Vehicle(max_current=16, phases=3, energy_wanted=1_000))
    clock.advance(3600)
    full = await device.read()
    assert full.extra["car_state"] == 4
    assert full.state is ChargerState.B
    assert full.power == 0
    assert full.session_energy == 1_000

    wallbox.charger.set_fault(True)
    assert (await device.read()).state is ChargerState.F


async def test_current_limit_and_enable(
    wallbox: GoeV2, device: GoeCharger, clock: SimClock
) -> None:
    """Writes reach the simulator, which changes the current it offers."""
    wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await device.set_current_limit(10)
    assert wallbox.charger.current_limit == 10
    reading = await device.read()
    assert reading.current_limit == 10
    assert reading.current_l1 == 10
    assert reading.power == 3 * 230 * 10

    await device.set_enabled(False)
    assert wallbox.force_state == 1
    reading = await device.read()
    assert reading.enabled is False
    assert reading.extra["allowed"] is False
    assert reading.state is ChargerState.B
    assert reading.power == 0

    await device.set_enabled(True)
    assert wallbox.force_state == 2
    reading = await device.read()
    assert reading.enabled is True
    assert reading.current_limit == 10
    assert reading.state is ChargerState.C

    await device.set_current_limit(12.7)  # whole amperes, never above the request
    assert wallbox.charger.current_limit == 12

    requests = len(wallbox.requests)
    with pytest.raises(ValueError, match=r"outside 6.0..32.0 A"):
        await device.set_current_limit(40)
    with pytest.raises(ValueError, match=r"outside"):
        await device.set_current_limit(0)
    assert len(wallbox.requests) == requests  # refused before anything was sent
    assert wallbox.charger.current_limit == 12


async def test_11kw_variant(clock: SimClock, serve: Serve, session: aiohttp.ClientSession) -> None:
    """An 11 kW box allows 16 A; the box's own refusal is a typed error too."""
    wallbox = GoeV2(clock, variant=11)
    port = await serve(wallbox)
    device = GoeCharger("127.0.0.1", port=port, session=session)
    # Before identify() the driver assumes the 22 kW range: the box itself says no.
    with pytest.raises(DeviceCommunicationError, match=r"go-e refused amp=20: amp must be"):
        await device.set_current_limit(20)
    await device.identify()
    assert device.capabilities.max_current_a == 16
    with pytest.raises(ValueError, match=r"outside 6.0..16.0 A"):
        await device.set_current_limit(20)
    await device.set_current_limit(16)
    assert wallbox.charger.current_limit == 16


async def test_own_session_is_closed_given_one_is_not(
    wallbox: GoeV2, session: aiohttp.ClientSession
) -> None:
    """Without a session the driver opens and closes its own; a given one stays open."""
    own = GoeCharger("127.0.0.1", port=wallbox.port)
    assert (await own.read()).energy == 2_345_678
    assert own.client._own_session is not None
    inner = own.client._own_session
    await own.close()
    assert inner.closed

    shared = GoeCharger("127.0.0.1", port=wallbox.port, session=session)
    await shared.read()
    await shared.close()
    assert not session.closed
    assert shared.client._own_session is None


# -- bad input: typed errors or None values, then recovery -----------------------------------


async def test_timeout_then_recovery(wallbox: GoeV2, session: aiohttp.ClientSession) -> None:
    """A box slower than the driver's deadline is a timeout, and the next poll works."""
    device = GoeCharger("127.0.0.1", port=wallbox.port, session=session, timeout=0.1)
    wallbox.faults.delay = 0.3
    with pytest.raises(DeviceTimeoutError, match=r"did not answer /api/status within 0.1 s"):
        await device.read()
    wallbox.faults.delay = 0
    assert (await device.read()).energy == 2_345_678


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("status", HttpStatusError, r"answered HTTP 500: the device reported an internal error"),
        ("garbage", DeviceCommunicationError, r"not JSON"),
        ("truncate", DeviceCommunicationError, r"not JSON"),
        ("cut_body", DeviceConnectionError, r"broke off its answer"),
        ("drop_connection", DeviceConnectionError, r"dropped the connection"),
    ],
)
async def test_faults_then_recovery(
    wallbox: GoeV2,
    device: GoeCharger,
    fault: str,
    error: type[Exception],
    message: str,
) -> None:
    """Every misbehaviour is a typed error with a clear message; the next poll works."""
    setattr(wallbox.faults, fault, 500 if fault == "status" else True)
    with pytest.raises(error, match=message):
        await device.read()
    with pytest.raises(error):
        await device.identify()
    setattr(wallbox.faults, fault, None if fault == "status" else False)
    assert (await device.read()).energy == 2_345_678


async def test_missing_keys_are_none(wallbox: GoeV2, device: GoeCharger, clock: SimClock) -> None:
    """Keys the box leaves out read as None, never 0; the others still arrive."""
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    clock.advance(60)
    wallbox.faults.omit = {"nrg", "eto", "car", "frc", "cards"}
    reading = await device.read()
    assert reading.state is None
    assert reading.power is None
    assert reading.current_l1 is None
    assert reading.voltage_l3 is None
    assert reading.energy is None
    assert reading.enabled is None
    assert reading.session_energy == 184  # 11 040 W for a minute
    assert reading.current_limit == 16

    wallbox.faults.omit = {"sse"}
    with pytest.raises(UnsupportedDeviceError, match=r"without a serial number"):
        await device.identify()


async def test_short_nrg_and_wrong_types_are_none(
    wallbox: GoeV2, device: GoeCharger, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short nrg array, strings, NaN and booleans where numbers belong read as None."""
    original = wallbox.status

    def broken() -> dict[str, object]:
        status = original()
        status["nrg"] = status["nrg"][:5]
        status["eto"] = "2345678"
        status["wh"] = True
        status["car"] = 9
        status["amp"] = float("nan")
        return status

    monkeypatch.setattr(wallbox, "status", broken)
    reading = await device.read()
    assert reading.voltage_l1 == 230
    assert reading.current_l1 == 0
    assert reading.current_l2 is None
    assert reading.power is None
    assert reading.energy is None
    assert reading.session_energy is None
    assert reading.state is None
    assert reading.current_limit is None


async def test_connection_refused(
    clock: SimClock, session: aiohttp.ClientSession, serve: Serve
) -> None:
    """A host where nothing listens is a connection error; detect() says None."""
    wallbox = GoeV2(clock)
    port = await wallbox.start("127.0.0.1", 0)
    await wallbox.stop()
    device = GoeCharger("127.0.0.1", port=port, session=session)
    with pytest.raises(DeviceConnectionError, match=r"cannot connect to 127.0.0.1:\d+"):
        await device.read()
    assert await GoeCharger.detect("127.0.0.1", session, port=port, timeout=0.5) is None


async def test_detect_refuses_other_devices(
    clock: SimClock, serve: Serve, session: aiohttp.ClientSession
) -> None:
    """The Shelly simulators are not go-e chargers, and identify() says why."""
    for simulator in (ShellyPro3EMSimulator(clock), ShellyEMGen1Simulator(clock)):
        port = await serve(simulator)
        assert await GoeCharger.detect("127.0.0.1", session, port=port) is None
        device = GoeCharger("127.0.0.1", port=port, session=session)
        with pytest.raises(UnsupportedDeviceError, match=r"enable 'HTTP API v2'"):
            await device.identify()


async def test_detect_never_raises_on_garbage(
    wallbox: GoeV2, session: aiohttp.ClientSession
) -> None:
    """A go-e that answers garbage or slowly is not detected, and nothing is raised."""
    wallbox.faults.garbage = True
    assert await GoeCharger.detect("127.0.0.1", session, port=wallbox.port) is None
    wallbox.faults.garbage = False
    wallbox.faults.delay = 0.3
    assert await GoeCharger.detect("127.0.0.1", session, port=wallbox.port, timeout=0.1) is None
