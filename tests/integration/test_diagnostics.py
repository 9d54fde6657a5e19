"""Diagnostics of a charging wallbox: identity, reading, and nothing that identifies the user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .conftest import AddDevice

REDACTED = "**REDACTED**"


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    wallbox: VestelEVC04,
    clock: SimClock,
    add_device: AddDevice,
    snapshot: SnapshotAssertion,
) -> None:
    """Host, serial and RFID tag are redacted; the reading and identity are there."""
    entry = await add_device(wallbox)
    wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    wallbox.charger.swipe("04A1B2C3D4")
    clock.advance(3)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done(wait_background_tasks=True)

    diagnostics: dict[str, Any] = dict(
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
    )
    text = str(diagnostics)
    for secret in ("127.0.0.1", "VES2024000123", "04A1B2C3D4"):
        assert secret not in text
    data = diagnostics["entry"]["data"]
    assert data["port"] == wallbox.port
    data.pop("port")  # ephemeral: differs every run
    assert diagnostics == snapshot
    # Checked by hand against the simulator and the EVC04 register map:
    assert diagnostics["entry"]["unique_id"] == REDACTED
    assert diagnostics["entry"]["data"] == {"host": REDACTED, "driver": "vestel_evc04"}
    assert diagnostics["identity"] == {
        "manufacturer": "Vestel",
        "model": "EVC04",
        "serial": REDACTED,
        "firmware": "v3.187.0-240419",
        "model_id": None,
        "mac": None,  # the EVC04 reports none (a MAC would be redacted)
    }
    reading = diagnostics["reading"]
    assert reading["rfid"] == REDACTED
    assert reading["state"] == "C"
    # 16 A x 230 V x 3 phases; 3 s of 11 040 W = 9.2 Wh, the session register counts whole Wh.
    assert reading["power"] == 11_040
    assert reading["current_l1"] == 16
    assert reading["voltage_l1"] == 230
    assert reading["session_energy"] == 9
    # 1 234 500 Wh + 9.2 Wh, in 0.1 kWh steps.
    assert reading["energy"] == 1_234_500
    assert diagnostics["capabilities"]["kind"] == "charger"
    assert diagnostics["watchdog_interval"] == 5
