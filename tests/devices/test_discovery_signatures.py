"""Discovery signatures: zeroconf matchers, the go-e HTTP probe and the KEBA UDP probe."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from custom_components.ev_charging_monitor.devices import DeviceConnectionError, Identity
from custom_components.ev_charging_monitor.devices.discovery_signatures import (
    _ReportListener,
    keba_identity,
    match_zeroconf,
    probe_goe,
    probe_http,
    probe_keba_udp,
    zeroconf_manifest,
)
from custom_components.ev_charging_monitor.devices.http import HTTP_DRIVERS
from simulators.base import Simulator
from simulators.clock import SimClock
from simulators.devices.goe_v2 import GoeV2
from simulators.devices.keba_udp import KebaUdp
from simulators.devices.shelly_em_gen1 import ShellyEMGen1Simulator
from simulators.devices.shelly_pro3em import ShellyPro3EMSimulator
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.registry import simulators

type Serve = Callable[[Simulator], Awaitable[int]]

SHELLY = ("shelly_pro3em", "shelly_em_gen1")
KEBA_IDENTITY = Identity(
    manufacturer="KEBA",
    model="KC-P30-EC240422-E00",
    serial="22012345",
    firmware="P30 v 3.10.42 (211112-110418)",
)


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
    """A session owned by the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- zeroconf -------------------------------------------------------------------------------


def test_zeroconf_manifest() -> None:
    """The manifest entries, as Home Assistant's manifest.json expects them."""
    assert zeroconf_manifest() == [
        {"type": "_alfen._tcp.local."},
        {"type": "_shelly._tcp.local."},
        {"type": "_http._tcp.local.", "name": "shelly*"},
    ]


@pytest.mark.parametrize(
    ("service_type", "name", "drivers"),
    [
        ("_alfen._tcp.local.", "ACE0123456._alfen._tcp.local.", ("alfen_eve",)),
        ("_alfen._tcp.local", "ACE0123456", ("alfen_eve",)),
        ("_shelly._tcp.local.", "ShellyPro3EM-C8F09E8A1B2C._shelly._tcp.local.", SHELLY),
        ("_http._tcp.local.", "shellyem-A4CF12F3D4E5._http._tcp.local.", SHELLY),
        ("_http._tcp.local.", "ShellyPro3EM-C8F09E8A1B2C", SHELLY),
        ("_http._tcp.local.", "printer._http._tcp.local.", ()),
        ("_http._tcp.local.", "my-shelly._http._tcp.local.", ()),
        ("_ipp._tcp.local.", "shellyem._ipp._tcp.local.", ()),
    ],
)
def test_match_zeroconf(service_type: str, name: str, drivers: tuple[str, ...]) -> None:
    """Services map to candidate drivers; anything else to none."""
    assert match_zeroconf(service_type, name) == drivers


# -- HTTP probes ------------------------------------------------------------------------------


async def test_probe_goe(clock: SimClock, serve: Serve, session: aiohttp.ClientSession) -> None:
    """The go-e probe finds the go-e simulator and nothing else."""
    goe_port = await serve(GoeV2(clock))
    assert await probe_goe("127.0.0.1", session, port=goe_port) == Identity(
        manufacturer="go-e", model="go-eCharger", serial="204017", firmware="56.11"
    )
    for other in (ShellyPro3EMSimulator(clock), ShellyEMGen1Simulator(clock)):
        assert await probe_goe("127.0.0.1", session, port=await serve(other)) is None


async def test_probe_http_names_the_driver(
    clock: SimClock, serve: Serve, session: aiohttp.ClientSession
) -> None:
    """Each HTTP simulator is recognised by the driver of the same name, and only by it."""
    for simulator in (GoeV2(clock), ShellyPro3EMSimulator(clock), ShellyEMGen1Simulator(clock)):
        port = await serve(simulator)
        found = await probe_http("127.0.0.1", session, port=port)
        assert found is not None
        assert found[0] == simulator.name
        matching = [
            driver.id
            for driver in HTTP_DRIVERS
            if await driver.detect("127.0.0.1", session, port=port) is not None
        ]
        assert matching == [simulator.name]


async def test_http_detect_refuses_modbus_and_udp_devices(
    clock: SimClock, serve: Serve, session: aiohttp.ClientSession
) -> None:
    """An HTTP request to a Modbus server or a UDP-only box is no device: None, no error."""
    modbus_port = await serve(VestelEVC04(clock))
    keba_port = await serve(KebaUdp(clock))
    for port in (modbus_port, keba_port):
        for driver in HTTP_DRIVERS:
            assert await driver.detect("127.0.0.1", session, port=port, timeout=0.3) is None


def test_simulators_registered() -> None:
    """`python -m simulators <name>` knows every simulator of this work by its driver id."""
    known = simulators()
    for name in ("goe_v2", "shelly_pro3em", "shelly_em_gen1", "keba_udp"):
        assert name in known
        assert known[name]().name == name


# -- KEBA UDP ---------------------------------------------------------------------------------


async def test_keba_probe_replies_to_the_fixed_port(clock: SimClock, serve: Serve) -> None:
    """Like a real box, the simulator answers a fixed port whatever port asked."""
    listen = free_udp_port()
    keba = KebaUdp(clock, reply_port=listen)
    port = await serve(keba)
    identity = await probe_keba_udp(
        "127.0.0.1", port=port, local_host="127.0.0.1", local_port=listen, timeout=2
    )
    assert identity == KEBA_IDENTITY
    assert keba.received[0][0] == b"report 1"


async def test_keba_probe_ephemeral_port(clock: SimClock, serve: Serve) -> None:
    """With a simulator answering the sender, the probe can use any local port."""
    port = await serve(KebaUdp(clock, serial="19999999", product="KC-P30-ES240022-E0R"))
    identity = await probe_keba_udp(
        "localhost", port=port, local_host="127.0.0.1", local_port=0, timeout=2
    )
    assert identity is not None
    assert (identity.serial, identity.model) == ("19999999", "KC-P30-ES240022-E0R")


@pytest.mark.parametrize("fault", ["silent", "garbage"])
async def test_keba_probe_no_or_bad_answer(clock: SimClock, serve: Serve, fault: str) -> None:
    """A box that stays silent or answers garbage is no KEBA: None after the timeout."""
    keba = KebaUdp(clock)
    setattr(keba, fault, True)
    port = await serve(keba)
    identity = await probe_keba_udp(
        "127.0.0.1", port=port, local_host="127.0.0.1", local_port=0, timeout=0.2
    )
    assert identity is None
    assert [data for data, _ in keba.received] == [b"report 1", b"report 1"]  # two attempts
    setattr(keba, fault, False)
    assert (
        await probe_keba_udp("127.0.0.1", port=port, local_host="127.0.0.1", local_port=0)
        == KEBA_IDENTITY
    )


async def test_keba_probe_nothing_there() -> None:
    """Nothing on that UDP port: None (the test plugin forbids DNS, so no unknown names)."""
    assert (
        await probe_keba_udp(
            "127.0.0.1", port=free_udp_port(), local_host="127.0.0.1", local_port=0, timeout=0.2
        )
        is None
    )


async def test_keba_probe_local_port_in_use(clock: SimClock, serve: Serve) -> None:
    """When another program holds the reply port the error says so."""
    port = await serve(KebaUdp(clock))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        taken = int(holder.getsockname()[1])
        with pytest.raises(DeviceConnectionError, match=rf"cannot listen on UDP port {taken}"):
            await probe_keba_udp(
                "127.0.0.1", port=port, local_host="127.0.0.1", local_port=taken, timeout=0.2
            )


async def test_keba_listener_ignores_other_hosts_and_reports() -> None:
    """Replies from another address, or other reports, do not count as the identity."""
    result: asyncio.Future[Identity] = asyncio.get_running_loop().create_future()
    listener = _ReportListener("127.0.0.1", result)
    report = (
        b'{"ID": "1", "Product": "KC-P30-EC240422-E00", "Serial": "22012345",'
        b' "Firmware": "P30 v 3.10.42 (211112-110418)"}'
    )
    listener.datagram_received(report, ("192.0.2.7", 7090))
    listener.datagram_received(b'{"ID": "2", "State": 2, "Serial": "22012345"}', ("127.0.0.1", 1))
    listener.datagram_received(b"TCH-OK :done", ("127.0.0.1", 7090))
    assert not result.done()
    listener.datagram_received(report, ("127.0.0.1", 7090))
    assert result.result() == KEBA_IDENTITY


def test_keba_identity_parsing() -> None:
    """Only a report 1 with a serial and product is an identity."""
    assert keba_identity(b'{"ID": "1", "Product": "KC-P30", "Serial": "1"}') == Identity(
        manufacturer="KEBA", model="KC-P30", serial="1"
    )
    assert keba_identity(b'{"ID": "1", "Product": "KC-P30"}') is None
    assert keba_identity(b"[1, 2]") is None
    assert keba_identity(b"\xff\x00") is None
