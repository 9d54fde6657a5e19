"""Diagnostics: the entry, the device's identity, capabilities and latest reading, redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .authorization.diagnostics import authorization_diagnostics
from .authorization.setup import is_authorization_entry
from .central_system.diagnostics import async_central_system_diagnostics
from .central_system.setup import is_central_system_entry
from .coordinator import EVChargingConfigEntry
from .ledger_link.entry import is_ledger_entry

# Addresses, serials (also inside ids), RFID tags and any credential a later option adds.
TO_REDACT = {
    CONF_HOST,
    "serial",
    "serial_number",
    "unique_id",
    "rfid",
    "tag",
    "tags",
    "token",
    "password",
    "api_key",
    "mac",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EVChargingConfigEntry
) -> dict[str, Any]:
    """Everything needed to understand a report, without identifying the user."""
    if is_authorization_entry(entry):
        return authorization_diagnostics(hass)
    if is_ledger_entry(entry):
        return {"entry": {"title": entry.title, "data": dict(entry.data)}}
    if is_central_system_entry(entry):
        return await async_central_system_diagnostics(hass, entry)
    runtime = entry.runtime_data
    live = runtime.live
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "identity": asdict(runtime.identity.data),
            "capabilities": asdict(runtime.device.capabilities),
            "watchdog_interval": runtime.device.watchdog_interval,
            "last_update_success": live.last_update_success,
            "reading": live.data.to_dict() if live.data is not None else None,
        },
        TO_REDACT,
    )
