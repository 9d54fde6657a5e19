"""Diagnostics of the central system: its port and who is connected (no passwords)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .local_list import async_get_local_lists
from .registry import async_get_registry
from .signed import key_fingerprint


async def async_central_system_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """The port, the connected charge point ids, the accepted ones and open transactions."""
    registry = await async_get_registry(hass)
    lists = await async_get_local_lists(hass)
    return {
        "entry": {"title": entry.title, "data": dict(entry.data)},
        "connected": sorted(registry.connections),
        "accepted": {
            charge_point_id: {
                "connected": charger.connected,
                "status": charger.status,
                "error_code": charger.error_code,
                "signed_values": len(charger.signed),
                # Which quirks.json entry it got, and the measurands it was set to send.
                "quirks": charger.quirks.key,
                "measurands": list(charger.measurands),
                "meter_key": key_fingerprint(
                    charger.signed.keys.user or charger.signed.keys.charger
                ),
                "connector_keys": {
                    connector: key_fingerprint(key)
                    for connector, key in charger.signed.keys.connectors.items()
                },
                # Signed values that came after their session and joined no record.
                "late_signed_values": [
                    {name: item.get(name) for name in ("session_id", "received_at", "reason")}
                    for item in charger.signed.late
                ],
            }
            for charge_point_id, charger in registry.chargers.items()
        },
        # Versions and sizes only: the lists hold card UIDs.
        "local_lists": {
            charge_point_id: {"version": sent["version"], "cards": len(sent["tags"])}
            for charge_point_id, sent in lists.sent.items()
        },
        "without_local_list": sorted(lists.unsupported),
        "open_transactions": {
            charge_point_id: transaction.transaction_id
            for charge_point_id, transaction in registry.book.open.items()
        },
    }
