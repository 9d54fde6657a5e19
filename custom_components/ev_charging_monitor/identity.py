"""Which device an entry is: its unique id from the device's identity, or a repair.

An entry's unique id is the device's serial number or, failing that, its MAC address, so
the device is recognised wherever it moves on the network. A device that reports neither
gets no unique id (its address would be a guess that breaks when DHCP moves it); a repair
issue says so. Entries made before this keep the id they have.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import format_mac

from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .devices import Identity

ISSUE_NO_IDENTITY = "device_without_identity"


def device_unique_id(identity: Identity) -> str | None:
    """The serial number, else the MAC address; None when the device has neither."""
    if identity.serial:
        return identity.serial
    if identity.mac:
        return format_mac(identity.mac)
    return None


def _issue_id(entry: EVChargingConfigEntry) -> str:
    return f"{ISSUE_NO_IDENTITY}_{entry.entry_id}"


@callback
def async_check_identity(hass: HomeAssistant, entry: EVChargingConfigEntry) -> None:
    """Raise the repair for an entry whose device could not be identified."""
    if entry.unique_id is not None:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_NO_IDENTITY,
        translation_placeholders={"name": entry.title, "host": entry.data.get("host", "")},
    )


@callback
def async_forget_identity(hass: HomeAssistant, entry: EVChargingConfigEntry) -> None:
    """The entry is removed: so is its repair."""
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
