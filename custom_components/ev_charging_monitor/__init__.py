"""The EV Charging Monitor integration: wallboxes and energy meters on the LAN."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .const import CONF_DRIVER, CONF_PROFILE_YAML, CONF_UNIT, DOMAIN, LOGGER
from .coordinator import (
    EVChargingConfigEntry,
    EVChargingRuntimeData,
    IdentityCoordinator,
    LiveCoordinator,
)
from .devices import DeviceError, InvalidProfileError, UnsupportedDeviceError
from .devices.factory import create_device
from .repairs import async_watch_problems
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions, once for every entry."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EVChargingConfigEntry) -> bool:
    """Connect to the device, read its identity once, then start polling."""
    try:
        device = create_device(
            entry.data[CONF_DRIVER],
            entry.data[CONF_HOST],
            port=entry.data.get(CONF_PORT),
            unit=entry.data.get(CONF_UNIT),
            profile_yaml=entry.data.get(CONF_PROFILE_YAML),
            session=async_get_clientsession(hass),
        )
    except (InvalidProfileError, UnsupportedDeviceError) as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_driver",
            translation_placeholders={"error": str(err)},
        ) from err

    live = LiveCoordinator(hass, entry, device)
    identity = IdentityCoordinator(hass, entry, device)
    try:
        await asyncio.gather(
            identity.async_config_entry_first_refresh(),
            live.async_config_entry_first_refresh(),
        )
    except ConfigEntryNotReady:
        await device.close()
        raise
    except DeviceError as err:
        await device.close()
        raise ConfigEntryNotReady(str(err)) from err

    entry.runtime_data = EVChargingRuntimeData(device=device, live=live, identity=identity)
    entry.async_on_unload(async_watch_problems(hass, entry))
    if (interval := device.watchdog_interval) is not None:
        # Chargers with a watchdog fall back to their safe current unless kept alive.
        async def keep_alive(_now: datetime) -> None:
            try:
                await device.keep_alive()
            except DeviceError as err:
                LOGGER.debug("Keep-alive of %s failed: %s", entry.title, err)

        entry.async_on_unload(
            async_track_time_interval(
                hass, keep_alive, timedelta(seconds=interval), cancel_on_shutdown=True
            )
        )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EVChargingConfigEntry) -> bool:
    """Unload the platforms and close the connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.device.close()
    return unloaded
