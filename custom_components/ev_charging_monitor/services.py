"""Service actions: set the current limit, start and stop charging, on a chosen device."""

from __future__ import annotations

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .central_system.entities import stop_charging
from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .current_limit import async_set_current_limit
from .helpers import async_run_command
from .ledger_link.entry import is_ledger_entry

ATTR_CURRENT = "current"
SERVICE_SET_CURRENT_LIMIT = "set_current_limit"
SERVICE_START_CHARGING = "start_charging"
SERVICE_STOP_CHARGING = "stop_charging"

_DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
_CURRENT_SCHEMA = _DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_CURRENT): vol.All(vol.Coerce(float), vol.Range(min=0))}
)


def _entry_for(hass: HomeAssistant, device_id: str) -> EVChargingConfigEntry:
    """The loaded config entry of one of our devices; a translated error otherwise."""
    device = dr.async_get(hass).async_get(device_id)
    ours = [
        candidate
        for entry_id in ((device.config_entry_id,) if device else ())
        if (candidate := hass.config_entries.async_get_entry(entry_id)) is not None
        and candidate.domain == DOMAIN
        and not is_ledger_entry(candidate)
    ]
    if not ours:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_device",
            translation_placeholders={"device_id": device_id},
        )
    entry: EVChargingConfigEntry = ours[0]
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry


async def _set_current_limit(call: ServiceCall) -> None:
    entry = _entry_for(call.hass, call.data[ATTR_DEVICE_ID])
    device = entry.runtime_data.device
    caps = device.capabilities
    amps: float = call.data[ATTR_CURRENT]
    if caps.can_set_current:
        low = caps.min_current_a if caps.min_current_a is not None else 0
        high = caps.max_current_a if caps.max_current_a is not None else amps
        if not low <= amps <= high:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="current_out_of_range",
                translation_placeholders={
                    "current": f"{amps:g}",
                    "min": f"{low:g}",
                    "max": f"{high:g}",
                },
            )
    await async_set_current_limit(entry, amps, user_id=call.context.user_id)


async def _start_charging(call: ServiceCall) -> None:
    entry = _entry_for(call.hass, call.data[ATTR_DEVICE_ID])
    await async_run_command(entry, entry.runtime_data.device.set_enabled(True))


async def _stop_charging(call: ServiceCall) -> None:
    entry = _entry_for(call.hass, call.data[ATTR_DEVICE_ID])
    await async_run_command(entry, stop_charging(entry.runtime_data.device))


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once, for every entry (resolved per call from the device)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_CURRENT_LIMIT, _set_current_limit, schema=_CURRENT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_START_CHARGING, _start_charging, schema=_DEVICE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_STOP_CHARGING, _stop_charging, schema=_DEVICE_SCHEMA
    )
