"""The EV Charging Monitor integration: wallboxes and energy meters on the LAN."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .authorization.setup import (
    async_attach_charger,
    async_guard_charger,
    async_remove_authorization_entry,
    async_setup_authorization,
    async_setup_authorization_entry,
    is_authorization_entry,
)
from .central_system.control_setup import async_remove_control
from .central_system.coordinator import OcppLiveCoordinator
from .central_system.setup import (
    async_attach_ocpp_charger,
    async_setup_central_system_entry,
    async_unload_central_system_entry,
    create_ocpp_device,
    is_central_system_entry,
    is_ocpp_charger,
)
from .central_system.signed_store import async_remove_signed
from .const import CONF_DRIVER, CONF_PROFILE_YAML, CONF_UNIT, DOMAIN, LOGGER
from .coordinator import (
    EVChargingConfigEntry,
    EVChargingRuntimeData,
    IdentityCoordinator,
    LiveCoordinator,
)
from .current_limit import CurrentLimitMemory
from .devices import (
    DeviceError,
    DeviceKind,
    InvalidProfileError,
    Reading,
    UnsupportedDeviceError,
)
from .devices.base import Device
from .devices.factory import create_device
from .entity_charger.coordinator import EntityLiveCoordinator
from .entity_charger.setup import create_entity_device, is_entity_charger
from .entity_charger.watch import async_watch_sources
from .identity import async_check_identity, async_forget_identity
from .ledger_link.entry import (
    async_setup_ledger_entry,
    async_unload_ledger_entry,
    is_ledger_entry,
)
from .ledger_link.history import SessionHistory
from .ledger_link.websocket_api import HISTORY, async_register
from .pricing.options import CONF_TARIFF, migrate_tariff
from .pricing.price_entity import SessionPricing
from .profiles import async_load_shipped_profiles, async_parse_user_profile
from .repairs import async_watch_problems
from .services import async_setup_services
from .session.manager import ChargerSessions
from .session.plausibility import ReadingPlausibility

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
NOMINAL_VOLTAGE = 230
# Three phases of 80 A: above any household connection, so only nonsense is gated.
DEFAULT_MAX_POWER_W = 55_200

# The Authorization entry's platforms: each person's totals.
AUTHORIZATION_PLATFORMS: list[Platform] = [Platform.SENSOR]
PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Load the session history and offer it over the websocket API."""
    history = SessionHistory(hass)
    await history.async_load()
    hass.data[HISTORY] = history
    async_register(hass)
    async_setup_services(hass)
    await async_setup_authorization(hass)
    return True


def _max_power_w(device: Device) -> float:
    caps = device.capabilities
    if caps.max_current_a is None:
        return DEFAULT_MAX_POWER_W
    return caps.max_current_a * NOMINAL_VOLTAGE * caps.phases


async def async_setup_entry(hass: HomeAssistant, entry: EVChargingConfigEntry) -> bool:
    """Connect to the device, read its identity once, then start polling."""
    if is_authorization_entry(entry):
        if not await async_setup_authorization_entry(hass, entry):
            return False
        await hass.config_entries.async_forward_entry_setups(entry, AUTHORIZATION_PLATFORMS)
        return True
    if is_ledger_entry(entry):
        return await async_setup_ledger_entry(hass, entry)
    if is_central_system_entry(entry):
        return await async_setup_central_system_entry(hass, entry)
    try:
        # A user profile is parsed once per setup, off the event loop.
        profile = None
        if (profile_yaml := entry.data.get(CONF_PROFILE_YAML)) is not None:
            profile = await async_parse_user_profile(hass, profile_yaml, limit=False)
        await async_load_shipped_profiles(hass)
        current_limit = CurrentLimitMemory(hass, entry.entry_id)
        device: Device
        if is_ocpp_charger(entry):
            device = create_ocpp_device(entry, resume_current_a=await current_limit.async_load())
        elif is_entity_charger(entry):
            device = create_entity_device(hass, entry)
        else:
            device = create_device(
                entry.data[CONF_DRIVER],
                entry.data[CONF_HOST],
                port=entry.data.get(CONF_PORT),
                unit=entry.data.get(CONF_UNIT),
                profile=profile,
                session=async_get_clientsession(hass),
                resume_current_a=await current_limit.async_load(),
            )
    except (InvalidProfileError, UnsupportedDeviceError) as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_driver",
            translation_placeholders={"error": str(err)},
        ) from err

    authorization = None
    if device.capabilities.kind is DeviceKind.CHARGER:
        # Every command to a charger passes its authorization's guard.
        device, authorization = async_guard_charger(hass, entry, device)
    resolution = device.capabilities.energy_resolution_wh
    resolution_wh = None if resolution is None else Decimal(str(resolution))
    # A charger of another integration reads whenever its entities change, an OCPP charger
    # whenever it reports: neither by polling.
    live = (
        OcppLiveCoordinator
        if is_ocpp_charger(entry)
        else EntityLiveCoordinator
        if is_entity_charger(entry)
        else LiveCoordinator
    )(
        hass,
        entry,
        device,
        plausibility=ReadingPlausibility(
            max_power_w=_max_power_w(device),
            resolution_wh=resolution_wh,
            max_current_a=device.capabilities.max_current_a,
        ),
    )
    identity = IdentityCoordinator(hass, entry, device)
    sessions = None
    if device.capabilities.kind is DeviceKind.CHARGER:
        sessions = ChargerSessions(
            hass,
            entry,
            history=hass.data[HISTORY],
            max_power_w=_max_power_w(device),
            pricing=SessionPricing(
                hass,
                dict(entry.options),
                currency=hass.config.currency,
                time_zone=str(hass.config.time_zone),
                entry_id=entry.entry_id,
                name=entry.title,
            ),
            identity_fn=lambda: identity.data,
            resolution_wh=resolution_wh,
        )
        entry.async_on_unload(sessions.pricing.async_start(live.async_request_refresh))
        await sessions.async_restore()
        live.add_processor("sessions", sessions.async_process)
    if authorization is not None:
        async_attach_charger(hass, entry, authorization, sessions, live.async_update_listeners)
        charger = authorization

        async def authorize(reading: Reading, _now: datetime) -> None:
            # After the sessions: a session that ends now is recorded with its attribution.
            await charger.async_process(reading)

        live.add_processor("authorization", authorize)
    if isinstance(live, OcppLiveCoordinator):
        await async_attach_ocpp_charger(hass, entry, device, live, sessions)
    try:
        # The identity first: the first reading may start a session, whose event and
        # record name the charger.
        await identity.async_config_entry_first_refresh()
        await live.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        await device.close()
        raise
    except DeviceError as err:
        await device.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="communication_error",
            translation_placeholders={"error": str(err)},
        ) from err

    entry.runtime_data = EVChargingRuntimeData(
        device=device,
        live=live,
        identity=identity,
        sessions=sessions,
        current_limit=current_limit if device.capabilities.can_set_current else None,
    )
    async_check_identity(hass, entry)
    if sessions is not None:

        async def clean_shutdown(_event: Event) -> None:
            await sessions.async_shutdown()

        entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, clean_shutdown))
    entry.async_on_unload(async_watch_problems(hass, entry))
    if is_entity_charger(entry):
        entry.async_on_unload(async_watch_sources(hass, entry))
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
    if is_authorization_entry(entry):
        return await hass.config_entries.async_unload_platforms(entry, AUTHORIZATION_PLATFORMS)
    if is_ledger_entry(entry):
        return await async_unload_ledger_entry(hass, entry)
    if is_central_system_entry(entry):
        return await async_unload_central_system_entry(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        if (sessions := entry.runtime_data.sessions) is not None:
            await sessions.async_shutdown()
        await entry.runtime_data.device.close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EVChargingConfigEntry) -> None:
    """Removing the Authorization entry frees every charger."""
    if is_authorization_entry(entry):
        await async_remove_authorization_entry(hass)
        return
    if not is_ledger_entry(entry):
        await CurrentLimitMemory(hass, entry.entry_id).async_remove()
        async_forget_identity(hass, entry)
    if is_ocpp_charger(entry):
        await async_remove_control(hass, entry)
        await async_remove_signed(hass, entry.entry_id)


async def async_migrate_entry(hass: HomeAssistant, entry: EVChargingConfigEntry) -> bool:
    """Bring an entry's options to the current format (1.2: time-of-use days of the week)."""
    if entry.version > 1:
        return False  # written by a newer version of the integration
    if entry.minor_version < 2:
        options = dict(entry.options)
        if (tariff := options.get(CONF_TARIFF)) is not None:
            options[CONF_TARIFF] = migrate_tariff(tariff)
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
        LOGGER.debug("Migrated the options of %s to version 1.2", entry.title)
    return True
