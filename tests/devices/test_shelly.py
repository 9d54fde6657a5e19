"""The Shelly Pro 3EM (Gen2 RPC) and Shelly EM / 3EM (Gen1) drivers against their simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from custom_components.ev_charging_monitor.devices import (
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceKind,
    DeviceTimeoutError,
    Identity,
    UnsupportedDeviceError,
)
from custom_components.ev_charging_monitor.devices.base import Device
from custom_components.ev_charging_monitor.devices.http import (
    HTTP_DRIVERS,
    HttpDevice,
    HttpStatusError,
    ShellyEMGen1,
    ShellyPro3EM,
)
from simulators.base import Simulator
from simulators.clock import SimClock
from simulators.devices.goe_v2 import GoeV2
from simulators.devices.shelly_em_gen1 import ShellyEMGen1Simulator
from simulators.devices.shelly_pro3em import ShellyPro3EMSimulator
from simulators.http import HttpSimulator
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
async def pro3em(clock: SimClock, serve: Serve) -> ShellyPro3EMSimulator:
    """A Pro 3EM measuring 10 A on each phase, import register at 987 654 Wh."""
    simulator = ShellyPro3EMSimulator(clock, import_wh=987_654, export_wh=1_234)
    await serve(simulator)
    return simulator


@pytest.fixture
async def em(clock: SimClock, serve: Serve) -> ShellyEMGen1Simulator:
    """A Gen1 Shelly EM measuring 10 A on one phase, channel 0 total at 456 789 Wh."""
    simulator = ShellyEMGen1Simulator(clock, import_wh=456_789)
    await serve(simulator)
    return simulator


def test_exported() -> None:
    """Both drivers are listed with their ids, which equal their simulators' names."""
    assert ShellyPro3EM in HTTP_DRIVERS
    assert ShellyEMGen1 in HTTP_DRIVERS
    assert ShellyPro3EM.id == "shelly_pro3em" == ShellyPro3EMSimulator.name
    assert ShellyEMGen1.id == "shelly_em_gen1" == ShellyEMGen1Simulator.name
    meters: list[Device] = [ShellyPro3EM("127.0.0.1"), ShellyEMGen1("127.0.0.1")]
    assert all(meter.capabilities.kind is DeviceKind.METER for meter in meters)


async def test_meters_refuse_commands() -> None:
    """A meter cannot set a current or stop charging: a typed error, nothing sent."""
    for meter in (ShellyPro3EM("127.0.0.1"), ShellyEMGen1("127.0.0.1")):
        with pytest.raises(UnsupportedDeviceError, match=r"has no current setpoint"):
            await meter.set_current_limit(16)
        with pytest.raises(UnsupportedDeviceError, match=r"cannot be enabled remotely"):
            await meter.set_enabled(False)
        await meter.keep_alive()
        await meter.close()


# -- Pro 3EM ------------------------------------------------------------------------------

# The model code SPEM-003CEBEU is sold as the "Pro 3EM" (Shelly's product name).
PRO3EM_IDENTITY = Identity(
    manufacturer="Shelly",
    model="Pro 3EM",
    model_id="SPEM-003CEBEU",
    serial="C8F09E8A1B2C",
    mac="c8:f0:9e:8a:1b:2c",
    firmware="1.4.4",
)


async def test_pro3em_identity_and_detect(
    pro3em: ShellyPro3EMSimulator, session: aiohttp.ClientSession
) -> None:
    """identify() and detect() give the simulator's model, MAC and firmware version."""
    device = ShellyPro3EM("127.0.0.1", port=pro3em.port, session=session)
    assert await device.identify() == PRO3EM_IDENTITY
    assert await ShellyPro3EM.detect("127.0.0.1", session, port=pro3em.port) == PRO3EM_IDENTITY
    assert device.capabilities.kind is DeviceKind.METER
    assert device.capabilities.phases == 3


async def test_pro3em_values_and_energy(
    pro3em: ShellyPro3EMSimulator, session: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Every value equals the simulator's model; the import register counts up exactly."""
    device = ShellyPro3EM("127.0.0.1", port=pro3em.port, session=session)
    first = await device.read()
    # By hand: 3 phases x 230 V x 10 A = 6 900 W.
    assert first.power == 6_900
    assert (first.power_l1, first.power_l2, first.power_l3) == (2_300, 2_300, 2_300)
    assert (first.current_l1, first.current_l2, first.current_l3) == (10, 10, 10)
    assert (first.voltage_l1, first.voltage_l2, first.voltage_l3) == (230, 230, 230)
    assert first.energy == 987_654
    assert first.energy_export == 1_234
    assert first.extra["total_current"] == 30
    assert first.state is None
    assert first.current_limit is None
    assert first.session_energy is None

    clock.advance(3600)
    later = await device.read()
    assert later.energy == 987_654 + 6_900
    assert [path for path, _ in pro3em.requests][-2:] == [
        "/rpc/EM.GetStatus",
        "/rpc/EMData.GetStatus",
    ]


async def test_pro3em_in_front_of_a_charger(
    clock: SimClock, serve: Serve, session: aiohttp.ClientSession
) -> None:
    """The meter measures a go-e charging a one-phase car: phase a only, energy exact."""
    wallbox = GoeV2(clock)
    meter = ShellyPro3EMSimulator(clock, load=wallbox.charger, import_wh=10_000)
    port = await serve(meter)
    device = ShellyPro3EM("127.0.0.1", port=port, session=session)
    wallbox.charger.plug(Vehicle(max_current=16, phases=1))
    clock.advance(1800)
    reading = await device.read()
    # By hand: 230 V x 16 A = 3 680 W on phase a; for half an hour 1 840 Wh.
    assert (reading.power_l1, reading.power_l2, reading.power_l3) == (3_680, 0, 0)
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (16, 0, 0)
    assert reading.power == 3_680
    assert reading.energy == 10_000 + 1_840


async def test_pro3em_missing_keys(
    pro3em: ShellyPro3EMSimulator, session: aiohttp.ClientSession
) -> None:
    """Missing fields read as None; a meter without per-phase values is refused clearly."""
    device = ShellyPro3EM("127.0.0.1", port=pro3em.port, session=session)
    pro3em.faults.omit = {"total_act", "b_voltage", "total_act_power"}
    reading = await device.read()
    assert reading.energy is None
    assert reading.voltage_l2 is None
    assert reading.power is None
    assert reading.energy_export == 1_234
    assert reading.voltage_l1 == 230

    pro3em.faults.omit = {"a_act_power"}
    with pytest.raises(UnsupportedDeviceError, match=r"three-phase profile"):
        await device.read()
    pro3em.faults.omit = {"gen"}
    with pytest.raises(UnsupportedDeviceError, match=r"not a Gen2\+ Shelly"):
        await device.identify()
    assert await ShellyPro3EM.detect("127.0.0.1", session, port=pro3em.port) is None


# -- Gen1 EM / 3EM --------------------------------------------------------------------------


async def test_em_gen1_identity_and_detect(
    em: ShellyEMGen1Simulator, session: aiohttp.ClientSession
) -> None:
    """identify() and detect() give the simulator's type, MAC and firmware."""
    expected = Identity(
        manufacturer="Shelly",
        model="EM",  # type SHEM is the Shelly EM
        model_id="SHEM",
        serial="A4CF12F3D4E5",
        mac="a4:cf:12:f3:d4:e5",
        firmware="20230913-114244/v1.14.0-gcb84623",
    )
    device = ShellyEMGen1("127.0.0.1", port=em.port, session=session)
    assert await device.identify() == expected
    assert await ShellyEMGen1.detect("127.0.0.1", session, port=em.port) == expected
    assert device.capabilities.phases == 1


async def test_em_gen1_values_and_energy(
    em: ShellyEMGen1Simulator, session: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Channel 0 as phase L1; the EM has no current reading (None, not 0); totals in Wh."""
    device = ShellyEMGen1("127.0.0.1", port=em.port, session=session)
    first = await device.read()
    assert first.power == 2_300  # 230 V x 10 A
    assert first.power_l1 == 2_300
    assert first.voltage_l1 == 230
    assert first.current_l1 is None
    assert (first.power_l2, first.voltage_l2, first.power_l3) == (None, None, None)
    assert first.energy == 456_789
    assert first.energy_export == 0

    clock.advance(5400)  # an hour and a half: 3 450 Wh
    later = await device.read()
    assert later.energy == 456_789 + 3_450

    other = ShellyEMGen1("127.0.0.1", port=em.port, session=session, channel=1)
    second = await other.read()
    assert second.power == 0
    assert second.energy == 0

    missing = ShellyEMGen1("127.0.0.1", port=em.port, session=session, channel=2)
    with pytest.raises(UnsupportedDeviceError, match=r"channel 2 does not exist"):
        await missing.read()


async def test_3em_gen1(clock: SimClock, serve: Serve, session: aiohttp.ClientSession) -> None:
    """A Gen1 3EM: three phases from emeters 0..2, power and energy their sums."""
    simulator = ShellyEMGen1Simulator(clock, three_phase=True, import_wh=456_789)
    port = await serve(simulator)
    device = ShellyEMGen1("127.0.0.1", port=port, session=session)
    identity = await device.identify()
    assert (identity.model, identity.model_id) == ("3EM", "SHEM-3")
    assert device.capabilities.phases == 3
    clock.advance(3600)
    reading = await device.read()
    assert reading.power == 6_900
    assert (reading.current_l1, reading.current_l2, reading.current_l3) == (10, 10, 10)
    assert (reading.voltage_l1, reading.voltage_l2, reading.voltage_l3) == (230, 230, 230)
    assert reading.energy == 456_789 + 6_900


async def test_em_gen1_invalid_and_missing(
    em: ShellyEMGen1Simulator, session: aiohttp.ClientSession
) -> None:
    """A meter that says its values are invalid reads None; missing fields read None."""
    device = ShellyEMGen1("127.0.0.1", port=em.port, session=session)
    em.valid = False
    invalid = await device.read()
    assert (invalid.power, invalid.energy, invalid.voltage_l1) == (None, None, None)
    em.valid = True
    em.faults.omit = {"total"}
    reading = await device.read()
    assert reading.energy is None
    assert reading.power == 2_300
    em.faults.omit = {"emeters"}
    with pytest.raises(DeviceCommunicationError, match=r"no 'emeters' list"):
        await device.read()
    em.faults.omit = {"type"}
    with pytest.raises(UnsupportedDeviceError, match=r"not a Gen1 Shelly EM"):
        await device.identify()


# -- both: bad input, detection of other devices ----------------------------------------------


TIMEOUT = 1.5


def _driver(kind: str, port: int | None, session: aiohttp.ClientSession) -> HttpDevice:
    cls = ShellyPro3EM if kind == "pro3em" else ShellyEMGen1
    # Long enough that a loaded 2-core machine does not turn another fault into a timeout.
    return cls("127.0.0.1", port=port, session=session, timeout=TIMEOUT)


@pytest.fixture(params=["pro3em", "em"])
async def meter(
    request: pytest.FixtureRequest, clock: SimClock, serve: Serve
) -> tuple[str, HttpSimulator]:
    """Each of the two Shelly simulators in turn."""
    kind: str = request.param
    simulator: HttpSimulator = (
        ShellyPro3EMSimulator(clock) if kind == "pro3em" else ShellyEMGen1Simulator(clock)
    )
    await serve(simulator)
    return kind, simulator


@pytest.mark.parametrize(
    ("fault", "value", "error", "message"),
    [
        ("delay", 3.0, DeviceTimeoutError, r"did not answer .* within 1.5 s"),
        ("status", 500, HttpStatusError, r"HTTP 500"),
        ("status", 401, HttpStatusError, r"asks for a password"),
        ("garbage", True, DeviceCommunicationError, r"not JSON"),
        ("truncate", True, DeviceCommunicationError, r"not JSON"),
        ("cut_body", True, DeviceConnectionError, r"broke off"),
        ("drop_connection", True, DeviceConnectionError, r"dropped the connection"),
    ],
)
async def test_faults_then_recovery(
    meter: tuple[str, HttpSimulator],
    session: aiohttp.ClientSession,
    fault: str,
    value: object,
    error: type[Exception],
    message: str,
) -> None:
    """Each misbehaviour is a typed error; detect() is None; the next poll works."""
    kind, simulator = meter
    device = _driver(kind, simulator.port, session)
    cleared = getattr(simulator.faults, fault)
    setattr(simulator.faults, fault, value)
    with pytest.raises(error, match=message):
        await device.read()
    assert (
        await type(device).detect("127.0.0.1", session, port=simulator.port, timeout=TIMEOUT)
        is None
    )
    setattr(simulator.faults, fault, cleared)
    assert (await device.read()).energy is not None


async def test_connection_refused(clock: SimClock, session: aiohttp.ClientSession) -> None:
    """Nothing listening: a connection error for read(), None for detect()."""
    simulator = ShellyPro3EMSimulator(clock)
    port = await simulator.start("127.0.0.1", 0)
    await simulator.stop()
    for kind in ("pro3em", "em"):
        device = _driver(kind, port, session)
        with pytest.raises(DeviceConnectionError, match=r"cannot connect"):
            await device.read()
        assert await type(device).detect("127.0.0.1", session, port=port) is None


async def test_detect_refuses_other_devices(
    clock: SimClock, serve: Serve, session: aiohttp.ClientSession
) -> None:
    """Each Shelly driver detects only its own simulator."""
    pro3em, em, em3, goe = (
        ShellyPro3EMSimulator(clock),
        ShellyEMGen1Simulator(clock),
        ShellyEMGen1Simulator(clock, three_phase=True),
        GoeV2(clock),
    )
    ports = {sim.name + str(i): await serve(sim) for i, sim in enumerate((pro3em, em, em3, goe))}
    found = {
        (driver.id, name): await driver.detect("127.0.0.1", session, port=port)
        for driver in (ShellyPro3EM, ShellyEMGen1)
        for name, port in ports.items()
    }
    assert {key for key, identity in found.items() if identity is not None} == {
        ("shelly_pro3em", "shelly_pro3em0"),
        ("shelly_em_gen1", "shelly_em_gen11"),
        ("shelly_em_gen1", "shelly_em_gen12"),
    }
    device = ShellyEMGen1("127.0.0.1", port=ports["goe_v23"], session=session)
    with pytest.raises(HttpStatusError, match=r"HTTP 404"):
        await device.read()
