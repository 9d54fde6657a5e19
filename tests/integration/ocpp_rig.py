"""The OCPP tests' side of Home Assistant: the central system set up as an administrator
would, the charger's acceptance, and what the tests read back (events, records, states).

Shared by every OCPP test module; the chargers themselves are the simulators.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.const import CONF_PORT
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.ev_charging_monitor.authorization.manager import EVENT_AUTHORIZATION
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.ocpp_charger import GenericOcpp16Charger

PASSWORD = "correct-horse-battery-staple"
# How long (real seconds) `Rig.until` waits for a condition, and how long it pauses between
# tries: generous, for two busy cores.
UNTIL_S = 60.0
UNTIL_PAUSE_S = 0.01


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Rig:
    """Home Assistant's side of the tests: the central system, its events and records."""

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        self.hass = hass
        self.freezer = freezer
        self.port = _free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.events: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.central: ConfigEntry | None = None
        self.charger: ConfigEntry | None = None
        # The machine's monotonic clock cannot be moved: the sessions measure with this one.
        self.clock = SimClock(manual=True)
        hass.bus.async_listen(EVENT_AUTHORIZATION, callback(lambda e: self.events.append(e.data)))
        hass.bus.async_listen(EVENT_SESSION_ENDED, callback(lambda e: self.records.append(e.data)))

    async def set_up_central_system(self, **tls: str) -> None:
        """Through the config flow's menu, as the administrator would (`tls`: file paths)."""
        flow = await self.hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        assert "central_system" in flow["menu_options"]
        flow = await self.hass.config_entries.flow.async_configure(
            flow["flow_id"], {"next_step_id": "central_system"}
        )
        assert flow["step_id"] == "central_system"
        flow = await self.hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_PORT: self.port, **tls}
        )
        assert flow["type"] is FlowResultType.CREATE_ENTRY
        await self.hass.async_block_till_done()
        self.central = flow["result"]

    def discoveries(self) -> list[dict[str, Any]]:
        return [
            flow
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        ]

    async def accept(self, sim: GenericOcpp16Charger, password: str | None = PASSWORD) -> None:
        """The charger connects and boots, the user accepts the discovery."""
        await sim.connect(self.url)
        assert await sim.boot() == "Pending"
        await self.hass.async_block_till_done()
        (flow,) = self.discoveries()
        assert flow["step_id"] == "ocpp_confirm"
        result = await self.hass.config_entries.flow.async_configure(
            flow["flow_id"], {} if password is None else {"password": password}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await self.hass.async_block_till_done()
        self.charger = result["result"]
        self.drive_monotonic()
        await sim.wait_accepted()  # the central system triggered a new BootNotification
        if getattr(sim, "publish_key", False):
            # Its sessions' signed values are checked with the meter's key, which is read in
            # round trips after the boot: a session before that would have no key.
            charger = self.hass.data[OCPP_REGISTRY].chargers[sim.charge_point_id]
            await self.until(lambda: charger.public_key is not None, "the meter's key read")

    def entity_id(self, domain: str, key: str) -> str:
        """The charger's `domain` entity of description `key`."""
        assert self.charger is not None
        entity_id = er.async_get(self.hass).async_get_entity_id(
            domain, DOMAIN, f"{self.charger.unique_id}_{key}"
        )
        assert entity_id is not None, (domain, key)
        return entity_id

    def device_id(self) -> str:
        """The charger's device."""
        assert self.charger is not None
        (device,) = dr.async_entries_for_config_entry(
            dr.async_get(self.hass), self.charger.entry_id
        )
        return device.id

    async def service(
        self, domain: str, service: str, data: dict[str, Any], user: MockUser | None = None
    ) -> None:
        """A service call as `user` (none: the system), then its effects settled."""
        await self.hass.services.async_call(
            domain,
            service,
            data,
            blocking=True,
            context=Context(user_id=None if user is None else user.id),
        )
        await self.settle()

    def state(self, key: str) -> str:
        """The state of the charger's sensor `key` (its entity description's key)."""
        state = self.hass.states.get(self.entity_id("sensor", key))
        assert state is not None
        return state.state

    def drive_monotonic(self) -> None:
        assert self.charger is not None
        sessions = self.charger.runtime_data.sessions
        assert sessions is not None
        sessions.monotonic = self.clock.now

    async def until(self, done: Callable[[], bool], what: str) -> None:
        """Settle until `done()`: what the central system does after its answers (configure,
        read the key) takes websocket round trips, which a loaded machine makes slow.

        Bounded by real seconds, not by turns of the event loop: on a busy machine the
        kernel may hand over a loopback message only after many idle turns. Between tries
        the loop waits a real moment in a thread (its own clock is frozen by the tests).
        """
        deadline = time.clock_gettime(time.CLOCK_MONOTONIC) + UNTIL_S
        while not done():
            if time.clock_gettime(time.CLOCK_MONOTONIC) > deadline:
                raise AssertionError(f"never happened in {UNTIL_S:.0f} s: {what}")
            await self.settle()
            if not done():
                await self.hass.async_add_executor_job(time.sleep, UNTIL_PAUSE_S)

    async def settle(self) -> None:
        """Let the readings of the messages just confirmed reach the sessions.

        Each websocket hop needs a turn of the event loop, so a few more turns than hops.
        """
        for _ in range(10):
            await asyncio.sleep(0)
            await self.hass.async_block_till_done()

    async def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.freezer.tick(timedelta(seconds=seconds))
        await self.settle()

    async def send(self, step: Any) -> Any:
        result = await step
        await self.settle()
        return result


@pytest.fixture
async def rig(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> AsyncIterator[Rig]:
    rig = Rig(hass, freezer)
    await rig.set_up_central_system()
    yield rig
    if rig.central is not None:
        await hass.config_entries.async_unload(rig.central.entry_id)


async def charge_one_session(rig: Rig, sim: GenericOcpp16Charger) -> int:
    """Plug in, present CARD, charge 6 x 10 min at 11 kW, stop, unplug; the meter delta."""
    # Imported here: the conftest registers this module's fixture, and test_authorization
    # imports the conftest.
    from .test_authorization import CARD

    await rig.send(sim.status("Available"))
    await rig.send(sim.meter_values(0))
    await rig.tick(60)
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.authorize(CARD)) == "Accepted"
    before = sim.register_wh
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))
    for _ in range(6):
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))
        assert rig.state("power") == "11000.0"
        assert rig.state("status") == "charging"
    # A heartbeat reading between two meter values: the entities keep the last register.
    await rig.tick(45)
    assert float(rig.state("energy")) == sim.register_wh / 1000
    await rig.send(sim.stop_transaction())
    await rig.send(sim.status("Finishing"))
    await rig.tick(30)
    await rig.send(sim.status("Available"))
    return sim.register_wh - before


def self_signed(directory: Path) -> tuple[str, str, ssl.SSLContext]:
    """A certificate for 127.0.0.1, its key, and a client context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt_util.utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    client = ssl.create_default_context(cadata=pem.decode())
    return str(cert_path), str(key_path), client
