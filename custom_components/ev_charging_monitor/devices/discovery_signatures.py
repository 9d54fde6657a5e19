"""How devices announce themselves on the LAN, for the integration to wire up.

Facts from devices.md part 3 (and sections 1, 10b, 11, 17):

* Alfen Eve announces mDNS `_alfen._tcp.local.` (Alfen's Modbus document).
* Shelly Gen2+ announces `_shelly._tcp.local.`; every generation announces `_http._tcp.local.`
  with an instance name starting `shelly` (HA core's Shelly manifest).
* go-e has no documented mDNS service type: it is found by an HTTP probe
  (`/api/status?filter=sse,typ`, see `GoeCharger.detect`).
* KEBA P30 (UDP protocol enabled) answers `report 1` on UDP 7090 with JSON carrying
  `"ID": "1"`, `Product` and `Serial`; replies always go to port 7090 of the asking host.

The zeroconf signatures are data: `zeroconf_manifest()` gives the manifest.json entries and
`match_zeroconf()` the candidate driver ids for a discovered service.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp

from custom_components.ev_charging_monitor.devices.errors import DeviceConnectionError
from custom_components.ev_charging_monitor.devices.http import HTTP_DRIVERS
from custom_components.ev_charging_monitor.devices.http.goe import GoeCharger
from custom_components.ev_charging_monitor.devices.models import Identity

_LOGGER = logging.getLogger(__name__)

KEBA_UDP_PORT = 7090
KEBA_IDENTITY_REQUEST = b"report 1"


@dataclass(frozen=True, kw_only=True)
class ZeroconfSignature:
    """A zeroconf service (and optional instance-name pattern) and the drivers it suggests."""

    type: str
    name: str | None = None  # fnmatch pattern on the lower-case instance name
    drivers: tuple[str, ...]

    def manifest_entry(self) -> dict[str, str]:
        """The entry for manifest.json's `zeroconf` list."""
        entry = {"type": self.type}
        if self.name is not None:
            entry["name"] = self.name
        return entry

    def matches(self, service_type: str, name: str) -> bool:
        """Whether a discovered service (type, full or instance name) fits this signature."""
        if _normalise_type(service_type) != _normalise_type(self.type):
            return False
        if self.name is None:
            return True
        instance = name.lower()
        suffix = "." + _normalise_type(service_type)
        instance = instance.removesuffix(suffix).removesuffix(suffix.rstrip("."))
        return fnmatch.fnmatchcase(instance, self.name.lower())


def _normalise_type(service_type: str) -> str:
    service_type = service_type.lower()
    return service_type if service_type.endswith(".") else service_type + "."


SHELLY_DRIVERS = ("shelly_pro3em", "shelly_em_gen1")

ZEROCONF_SIGNATURES: tuple[ZeroconfSignature, ...] = (
    ZeroconfSignature(type="_alfen._tcp.local.", drivers=("alfen_eve",)),
    ZeroconfSignature(type="_shelly._tcp.local.", drivers=SHELLY_DRIVERS),
    ZeroconfSignature(type="_http._tcp.local.", name="shelly*", drivers=SHELLY_DRIVERS),
)
"""go-e: no mDNS service type is documented; it is found by `probe_goe` instead."""


def zeroconf_manifest() -> list[dict[str, str]]:
    """The `zeroconf` entries of manifest.json."""
    return [signature.manifest_entry() for signature in ZEROCONF_SIGNATURES]


def match_zeroconf(service_type: str, name: str) -> tuple[str, ...]:
    """Candidate driver ids for a discovered service; empty when it is none of ours."""
    drivers: list[str] = []
    for signature in ZEROCONF_SIGNATURES:
        if signature.matches(service_type, name):
            drivers += [d for d in signature.drivers if d not in drivers]
    return tuple(drivers)


# -- HTTP probes ------------------------------------------------------------------------------


async def probe_goe(
    host: str,
    session: aiohttp.ClientSession,
    *,
    port: int | None = None,
    timeout: float = 3.0,
) -> Identity | None:
    """The go-e charger's identity when `host` is one (HTTP API v2 enabled); else None."""
    return await GoeCharger.detect(host, session, port=port, timeout=timeout)


async def probe_http(
    host: str,
    session: aiohttp.ClientSession,
    *,
    port: int | None = None,
    timeout: float = 3.0,
) -> tuple[str, Identity] | None:
    """(driver id, identity) of the first HTTP driver that recognises `host`; else None."""
    for driver in HTTP_DRIVERS:
        identity = await driver.detect(host, session, port=port, timeout=timeout)
        if identity is not None:
            return driver.id, identity
    return None


# -- KEBA UDP probe ---------------------------------------------------------------------------


def keba_identity(data: bytes) -> Identity | None:
    """The identity in a `report 1` reply; None for anything else."""
    try:
        report: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(report, dict) or str(report.get("ID")) != "1":
        return None
    serial, product = report.get("Serial"), report.get("Product")
    if not isinstance(serial, str) or not serial or not isinstance(product, str):
        return None
    firmware = report.get("Firmware")
    return Identity(
        manufacturer="KEBA",
        model=product,
        serial=serial,
        firmware=firmware if isinstance(firmware, str) and firmware else None,
    )


class _ReportListener(asyncio.DatagramProtocol):
    def __init__(self, address: str, result: asyncio.Future[Identity]) -> None:
        self.address = address
        self.result = result

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if str(addr[0]) != self.address or self.result.done():
            return  # another box (or a broadcast) on the shared port
        identity = keba_identity(data)
        if identity is not None:
            self.result.set_result(identity)


async def probe_keba_udp(
    host: str,
    *,
    port: int = KEBA_UDP_PORT,
    local_port: int = KEBA_UDP_PORT,
    local_host: str = "0.0.0.0",
    timeout: float = 3.0,
    attempts: int = 2,
) -> Identity | None:
    """Send `report 1` to host:port and return the KEBA's identity, or None.

    A KEBA replies to port 7090 whatever port asked, so by default the probe listens on
    7090 (`local_port`); only one program per host can. None when nothing (or something that
    is not a KEBA) answers within `timeout`, the request being sent `attempts` times.
    Raises DeviceConnectionError only when the local port cannot be opened.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    except OSError as err:
        _LOGGER.debug("KEBA probe: cannot resolve %s: %s", host, err)
        return None
    target = infos[0][4]
    address, target_port = str(target[0]), int(target[1])
    result: asyncio.Future[Identity] = loop.create_future()
    try:
        transport, _protocol = await loop.create_datagram_endpoint(
            lambda: _ReportListener(address, result),
            local_addr=(local_host, local_port),
            family=socket.AF_INET,
        )
    except OSError as err:
        raise DeviceConnectionError(
            f"cannot listen on UDP port {local_port} for KEBA replies ({err.strerror}):"
            " another program (a second KEBA integration?) may be using it"
        ) from err
    try:
        for _attempt in range(max(attempts, 1)):
            try:
                transport.sendto(KEBA_IDENTITY_REQUEST, (address, target_port))
            except OSError as err:
                _LOGGER.debug("KEBA probe: cannot send to %s:%s: %s", address, target_port, err)
                return None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout / max(attempts, 1)):
                    return await asyncio.shield(result)
        return None
    finally:
        transport.close()
