"""The ledger, linked through Supervisor discovery (add-on) or its own announcement
(standalone).

The ledger needs nothing from this entry to work: it connects to Home Assistant's
websocket API with its token and subscribes to the finished sessions itself
(ledger_link/websocket_api.py). Linking answers the discovery once and for all, and shows
the ledger on the integration's page as a service whose link opens it. A standalone ledger
(Home Assistant Container or Core: no Supervisor, no ingress panel) also gets an entry in
the sidebar that opens its URL inside Home Assistant; the add-on has its ingress panel.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from homeassistant.components import frontend
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from ..authorization.setup import CONF_ROLE
from ..const import DOMAIN

ROLE_LEDGER: Final = "ledger"
CONF_ADDON: Final = "addon"  # the add-on's slug: its panel is /hassio/ingress/<slug>
LEDGER_NAME: Final = "EV Charging Ledger"
# One standalone ledger per Home Assistant: announcing again from elsewhere moves it.
STANDALONE_ID: Final = "ledger_standalone"
PANEL_PATH: Final = "ev-charging-ledger"
PANEL_ICON: Final = "mdi:book-open-variant"


def is_ledger_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether `entry` links the ledger add-on (not a device)."""
    return entry.data.get(CONF_ROLE) == ROLE_LEDGER


def ledger_entry_data(slug: str, host: str, port: int) -> dict[str, Any]:
    """The data of a ledger entry."""
    return {CONF_ROLE: ROLE_LEDGER, CONF_ADDON: slug, CONF_HOST: host, CONF_PORT: port}


def standalone_ledger_data(url: str) -> dict[str, Any]:
    """The data of a standalone ledger's entry: where browsers open it."""
    return {CONF_ROLE: ROLE_LEDGER, CONF_URL: url}


def checked_ledger_url(text: str) -> str | None:
    """The ledger's address as announced, if it is an absolute http(s) URL (no trailing
    slash); None otherwise."""
    if len(text) > 2048:
        return None
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    return parts.geturl().rstrip("/")


def ledger_panel_url(entry: ConfigEntry[Any]) -> str:
    """Where Home Assistant's frontend opens the ledger: the add-on's ingress panel, or the
    standalone ledger's own address."""
    if CONF_ADDON in entry.data:
        return f"homeassistant://hassio/ingress/{entry.data[CONF_ADDON]}"
    return f"{entry.data[CONF_URL]}/"


async def async_setup_ledger_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Show the ledger as a service on the integration's page; nothing polls it. A
    standalone ledger also gets its sidebar entry."""
    key = entry.data.get(CONF_ADDON) or STANDALONE_ID
    if CONF_URL in entry.data and CONF_ADDON not in entry.data:
        # Everyone may open it: the ledger itself shows non-admins only their own sessions.
        frontend.async_register_built_in_panel(
            hass,
            "iframe",
            sidebar_title=LEDGER_NAME,
            sidebar_icon=PANEL_ICON,
            frontend_url_path=PANEL_PATH,
            config={"url": ledger_panel_url(entry)},
            require_admin=False,
            update=True,
        )
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"ledger_{key}")},
        name=LEDGER_NAME,
        manufacturer="EV Charging Monitor",
        model="Ledger add-on" if CONF_ADDON in entry.data else "Standalone ledger",
        entry_type=dr.DeviceEntryType.SERVICE,
        configuration_url=ledger_panel_url(entry),
    )
    return True


async def async_unload_ledger_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Take the sidebar entry away with the link."""
    if CONF_URL in entry.data and CONF_ADDON not in entry.data:
        frontend.async_remove_panel(hass, PANEL_PATH, warn_if_unknown=False)
    return True
