"""The ledger add-on, linked through Supervisor discovery.

The ledger needs nothing from this entry to work: it connects to Home Assistant's
websocket API with its Supervisor token and subscribes to the finished sessions itself
(ledger_link/websocket_api.py). Linking answers the discovery once and for all, and shows the ledger
on the integration's page as a service whose link opens the ledger's panel.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..authorization.setup import CONF_ROLE
from ..const import DOMAIN

ROLE_LEDGER: Final = "ledger"
CONF_ADDON: Final = "addon"  # the add-on's slug: its panel is /hassio/ingress/<slug>
LEDGER_NAME: Final = "EV Charging Ledger"


def is_ledger_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether `entry` links the ledger add-on (not a device)."""
    return entry.data.get(CONF_ROLE) == ROLE_LEDGER


def ledger_entry_data(slug: str, host: str, port: int) -> dict[str, Any]:
    """The data of a ledger entry."""
    return {CONF_ROLE: ROLE_LEDGER, CONF_ADDON: slug, CONF_HOST: host, CONF_PORT: port}


def ledger_panel_url(entry: ConfigEntry[Any]) -> str:
    """Where Home Assistant's frontend opens the add-on's panel."""
    return f"homeassistant://hassio/ingress/{entry.data[CONF_ADDON]}"


async def async_setup_ledger_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Show the ledger as a service on the integration's page; nothing polls it."""
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"ledger_{entry.data[CONF_ADDON]}")},
        name=LEDGER_NAME,
        manufacturer="EV Charging Monitor",
        model="Ledger add-on",
        entry_type=dr.DeviceEntryType.SERVICE,
        configuration_url=ledger_panel_url(entry),
    )
    return True
