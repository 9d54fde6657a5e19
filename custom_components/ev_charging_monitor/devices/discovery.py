"""Find out which device answers at a host, and scan a subnet for devices.

Probes are minimal and per vendor (devices.md part 3): some devices allow only two Modbus
masters or drop the connection on registers they do not know, so each profile reads only
its own identification registers, and a dropped connection is reopened for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp

from .errors import DeviceConnectionError, DeviceError, UnsupportedDeviceError
from .http import HTTP_DRIVERS
from .modbus.client import ModbusTransport
from .modbus.device import ModbusDevice, probe_profile
from .modbus.profile import ModbusProfile, shipped_profiles
from .models import Identity

_LOGGER = logging.getLogger(__name__)

MODBUS_PORTS = (502, 1502)


@dataclass(frozen=True, kw_only=True)
class DetectedDevice:
    """A device that answered its profile's identification probes."""

    driver: str
    host: str
    port: int | None
    unit: int | None
    identity: Identity


async def detect_modbus(
    host: str,
    *,
    port: int | None = None,
    unit: int | None = None,
    profiles: Iterable[ModbusProfile] | None = None,
    timeout: float = 2.0,
) -> DetectedDevice:
    """Identify the Modbus device at host:port; try 502 and 1502 when no port is given.

    Raises DeviceConnectionError when nothing answers Modbus there and
    UnsupportedDeviceError when something answers but is none of the profiles.
    """
    candidates = [p for p in (profiles or shipped_profiles().values()) if p.detect]
    ports = (port,) if port is not None else MODBUS_PORTS
    reached = False
    last_error: DeviceError | None = None
    for candidate_port in ports:
        transport = ModbusTransport(host, candidate_port, timeout=timeout)
        try:
            for profile in candidates:
                probe_unit = unit if unit is not None else profile.unit
                try:
                    matched = await probe_profile(transport, profile, probe_unit)
                except DeviceConnectionError as err:
                    last_error = err
                    break
                reached = reached or transport.requests > 0
                if not matched:
                    continue
                device = ModbusDevice(
                    profile, host, port=candidate_port, unit=unit, transport=transport
                )
                identity = await device.identify()
                return DetectedDevice(
                    driver=profile.id,
                    host=host,
                    port=candidate_port,
                    unit=unit,
                    identity=identity,
                )
        finally:
            await transport.close()
    if reached:
        raise UnsupportedDeviceError(
            f"{host} answers Modbus but is none of the supported devices; "
            "choose a profile or supply a profile file"
        )
    raise DeviceConnectionError(
        f"no Modbus device answers at {host} on port {', '.join(map(str, ports))}"
    ) from last_error


async def detect(
    host: str,
    session: aiohttp.ClientSession,
    *,
    port: int | None = None,
    unit: int | None = None,
    timeout: float = 2.0,
) -> DetectedDevice:
    """Identify the device at host, asking its HTTP API and Modbus at the same time.

    The first protocol that identifies the device wins; the other probe is cancelled, so
    a probe that waits for a timeout (HTTP sent to a Modbus port) costs nothing.
    """

    async def over_http() -> DetectedDevice:
        for driver in HTTP_DRIVERS:
            identity = await driver.detect(host, session, port=port, timeout=timeout)
            if identity is not None:
                return DetectedDevice(
                    driver=driver.id, host=host, port=port, unit=None, identity=identity
                )
        raise DeviceConnectionError(f"no supported HTTP device answers at {host}")

    probes = [asyncio.ensure_future(detect_modbus(host, port=port, unit=unit, timeout=timeout))]
    if unit is None:
        probes.append(asyncio.ensure_future(over_http()))
    errors: list[DeviceError] = []
    try:
        for next_done in asyncio.as_completed(probes):
            try:
                return await next_done
            except DeviceError as err:
                errors.append(err)
    finally:
        for probe in probes:
            probe.cancel()
        await asyncio.gather(*probes, return_exceptions=True)
    # Prefer "answers but unsupported" over "nothing there": it tells the user more.
    raise next((e for e in errors if isinstance(e, UnsupportedDeviceError)), errors[0])


async def scan_subnet(
    network: str,
    *,
    ports: Iterable[int] = MODBUS_PORTS,
    concurrency: int = 32,
    time_limit: float = 60.0,
    timeout: float = 1.0,
) -> list[DetectedDevice]:
    """Scan one /24 (or smaller) network for supported Modbus devices.

    Opt-in only: it opens connections to every host. Bounded in concurrency and total time;
    what has been found when the time runs out is returned.
    """
    net = ipaddress.ip_network(network, strict=False)
    if net.num_addresses > 256:
        raise ValueError(f"{network} is larger than a /24; scan one /24 at a time")
    hosts = [str(h) for h in (net.hosts() if net.num_addresses > 2 else net)]
    port_list = list(ports)
    semaphore = asyncio.Semaphore(concurrency)
    found: list[DetectedDevice] = []

    async def probe(host: str, port: int) -> None:
        async with semaphore:
            if not await _port_open(host, port, timeout):
                return
            try:
                found.append(await detect_modbus(host, port=port, timeout=timeout))
            except DeviceError as err:
                _LOGGER.debug("%s:%s is no supported device: %s", host, port, err)

    tasks = [asyncio.ensure_future(probe(h, p)) for h in hosts for p in port_list]
    _done, pending = await asyncio.wait(tasks, timeout=time_limit)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return sorted(found, key=lambda d: (ipaddress.ip_address(d.host), d.port or 0))


async def _port_open(host: str, port: int, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
