"""Runtime data and the coordinators that poll a device, one per cadence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .authorization.charger import ChargerAuthorization
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN, IDENTITY_INTERVAL, LOGGER
from .devices import DeviceError, Identity, Reading
from .devices.base import Device
from .session.gate import EnergyGate
from .session.manager import ChargerSessions, now_utc


@dataclass(kw_only=True)
class EVChargingRuntimeData:
    """What a loaded entry holds: the driver and its coordinators."""

    device: Device
    live: LiveCoordinator
    identity: IdentityCoordinator
    sessions: ChargerSessions | None


type EVChargingConfigEntry = ConfigEntry[EVChargingRuntimeData]


class LiveCoordinator(DataUpdateCoordinator[Reading]):
    """Power, energy and state: polled every few seconds."""

    config_entry: EVChargingConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EVChargingConfigEntry, device: Device) -> None:
        """Poll `device` at the entry's scan interval."""
        seconds = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} live values",
            update_interval=timedelta(seconds=seconds),
        )
        self.device = device
        self.sessions: ChargerSessions | None = None
        self.authorization: ChargerAuthorization | None = None
        self.energy_gate: EnergyGate | None = None

    async def _async_update_data(self) -> Reading:
        try:
            reading = await self.device.read()
        except DeviceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        now = now_utc()
        if self.sessions is not None:
            # In the same update, so entities never show a reading without its session.
            await self.sessions.async_process(reading, now)
        if self.authorization is not None:
            # After the sessions: a session that ends now is recorded with its attribution.
            await self.authorization.async_process(reading)
        if self.energy_gate is not None:
            reading = replace(reading, energy=self.energy_gate.filter(reading.energy, now))
        return reading


class IdentityCoordinator(DataUpdateCoordinator[Identity]):
    """Model, serial and firmware: they change only with a firmware update."""

    config_entry: EVChargingConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EVChargingConfigEntry, device: Device) -> None:
        """Read the identity hourly."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} identity",
            update_interval=IDENTITY_INTERVAL,
        )
        self.device = device

    async def _async_update_data(self) -> Identity:
        try:
            return await self.device.identify()
        except DeviceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
