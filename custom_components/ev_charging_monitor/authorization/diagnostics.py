"""Diagnostics of the Authorization entry: settings, counts and states, hashes shortened."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .engine import short_hash
from .manager import AUTHORIZATION


def authorization_diagnostics(hass: HomeAssistant) -> dict[str, Any]:
    """No names, no UIDs (even with the opt-in), no secret."""
    data = hass.data[AUTHORIZATION].data
    return {
        "settings": data.settings.to_dict(),
        "people": len(data.people),
        "vehicles": len(data.vehicles),
        "credentials": [
            {
                "kind": c.kind.value,
                "status": c.status.value,
                "valid_from": c.valid_from and c.valid_from.isoformat(),
                "valid_until": c.valid_until and c.valid_until.isoformat(),
                "single_session": c.single_session,
                "chargers": c.chargers,
                "has_raw_uid": c.uid is not None,
            }
            for c in data.credentials.values()
        ],
        "unknown": [
            {"kind": u.kind.value, "key": short_hash(u.key), "attempts": u.attempts}
            for u in data.unknown
        ],
        "chargers": {
            charger_id: {
                "authorized": state.authorized,
                "held": state.held,
                "method": (state.attribution or {}).get("method"),
                "status": (state.attribution or {}).get("status"),
            }
            for charger_id, state in data.chargers.items()
        },
    }
