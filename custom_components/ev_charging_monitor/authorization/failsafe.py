"""Whether a held charger stays shut when Home Assistant is gone, and the repair if not.

A charger that needs a heartbeat falls back to its failsafe current when the heartbeat
stops; only a failsafe current of 0 keeps a held charger shut then. Where the device lets
us write it, the charger's authorization writes 0 (and sets a timeout where there is none);
where it does not, or the device cannot be held at all, a repair tells the administrator in
plain words what an outage of Home Assistant lets happen.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..devices import Capabilities, Reading
from ..devices.value_names import FAILSAFE_CURRENT_NAMES

# Written where the device reports no timeout: the Vestel's factory value, four heartbeats.
DEFAULT_FAILSAFE_TIMEOUT_S = 20

ISSUE_CANNOT_HOLD = "authorization_cannot_hold"
ISSUE_FAILSAFE = "authorization_failsafe_open"
ISSUES = (ISSUE_CANNOT_HOLD, ISSUE_FAILSAFE)


def reported(reading: Reading | None, keys: tuple[str, ...]) -> float | None:
    """The first of `keys` the reading reports."""
    if reading is None:
        return None
    for key in keys:
        value = reading.extra.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def problem(
    caps: Capabilities, watchdog: bool, reading: Reading | None, *, written: bool = True
) -> tuple[str, dict[str, str]] | None:
    """Why this charger, held, could charge while Home Assistant is down; None if it cannot.

    A device without a heartbeat keeps the held setpoint (0 A or disabled) on its own; one
    whose failsafe current we write is safe unless the write was refused (`written`).
    """
    if not (caps.can_enable or caps.can_set_current):
        # A charger that refuses unknown cards itself (OCPP) is safe without being held.
        return None if caps.authorizes_itself else (ISSUE_CANNOT_HOLD, {})
    if not watchdog or (caps.can_set_failsafe_current and written):
        return None
    current = reported(reading, FAILSAFE_CURRENT_NAMES)
    if current == 0:
        return None
    return ISSUE_FAILSAFE, {"current": "?" if current is None else f"{current:g}"}


def issue_id(kind: str, entry_id: str) -> str:
    """One issue per kind and charger."""
    return f"{kind}_{entry_id}"


@callback
def async_update_issue(
    hass: HomeAssistant, entry_id: str, name: str, found: tuple[str, dict[str, str]] | None
) -> None:
    """Raise the issue `found` for this charger and clear the others."""
    for kind in ISSUES:
        if found is not None and found[0] == kind:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(kind, entry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=kind,
                translation_placeholders={"name": name, **found[1]},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry_id))
