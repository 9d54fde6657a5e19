"""Repair issues for problems the user must fix on the device, and their fix flows.

- remote control disabled: the charger refuses writes as an unknown function or address
  (Modbus exception code 1 or 2) although it answers reads; cleared by the next accepted
  command.
- watchdog not configured: the charger reports a failsafe/communication timeout of 0, so
  it would keep charging at the last current if Home Assistant stopped; cleared when the
  timeout is set.
- energy register went backwards: the meter reading dropped below its highest value seen
  (meter replaced, reset or a faulty reading); cleared when it is back, or by the fix
  flow, which accepts the new reading as the baseline.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow, RepairsFlowResult
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .devices import DeviceExceptionResponse
from .devices.value_names import FAILSAFE_TIMEOUT_NAMES
from .session.plausibility import BackwardsWatch

# Modbus exception codes with which chargers refuse writes while remote control is off.
REMOTE_CONTROL_OFF_CODES = frozenset({1, 2})

ISSUE_REMOTE_CONTROL = "remote_control_disabled"
ISSUE_WATCHDOG = "watchdog_not_configured"
ISSUE_REGISTER = "energy_register_backwards"


def issue_id(kind: str, entry: EVChargingConfigEntry) -> str:
    """The id of one kind of issue for one entry."""
    return f"{kind}_{entry.entry_id}"


def async_remote_control_refused(
    hass: HomeAssistant, entry: EVChargingConfigEntry, err: DeviceExceptionResponse
) -> bool:
    """Raise the issue if `err` means remote control is off; return whether it does."""
    if err.code not in REMOTE_CONTROL_OFF_CODES:
        return False
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_REMOTE_CONTROL, entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_REMOTE_CONTROL,
        translation_placeholders={"name": entry.title, "error": str(err)},
    )
    return True


@callback
def async_remote_control_accepted(hass: HomeAssistant, entry: EVChargingConfigEntry) -> None:
    """A command was accepted: remote control works."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_REMOTE_CONTROL, entry))


@callback
def async_watch_problems(hass: HomeAssistant, entry: EVChargingConfigEntry) -> CALLBACK_TYPE:
    """Check every poll for the watchdog and register problems; return the unsubscribe."""
    live = entry.runtime_data.live
    device = entry.runtime_data.device
    backwards = BackwardsWatch(resolution_wh=live.plausibility.resolution_wh)

    @callback
    def check() -> None:
        if not live.last_update_success or live.data is None:
            return
        reading = live.data
        if device.watchdog_interval is not None:
            timeouts = [reading.extra.get(key) for key in FAILSAFE_TIMEOUT_NAMES]
            _set_issue(
                hass,
                entry,
                ISSUE_WATCHDOG,
                any(timeout == 0 for timeout in timeouts),
                severity=ir.IssueSeverity.WARNING,
                placeholders={"name": entry.title},
            )
        backwards.observe(reading.energy)
        if (below := backwards.below) is None:
            ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_REGISTER, entry))
        else:
            highest, energy = below
            _set_issue(
                hass,
                entry,
                ISSUE_REGISTER,
                True,
                severity=ir.IssueSeverity.WARNING,
                placeholders={
                    "name": entry.title,
                    "before": f"{highest / 1000:.3f}",
                    "after": f"{energy / 1000:.3f}",
                },
                fixable=True,
            )

    check()
    return live.async_add_listener(check)


def _set_issue(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    kind: str,
    present: bool,
    *,
    severity: ir.IssueSeverity,
    placeholders: dict[str, str],
    fixable: bool = False,
) -> None:
    if not present:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry),
        is_fixable=fixable,
        severity=severity,
        translation_key=kind,
        translation_placeholders=placeholders,
        data={"entry_id": entry.entry_id},
    )


class AcceptRegisterFlow(ConfirmRepairFlow):
    """The user confirms the meter was replaced or reset: start over from its reading."""

    def __init__(self, entry_id: str) -> None:
        """Remember which entry to reload."""
        super().__init__()
        self._entry_id = entry_id

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Reload the entry, which takes the present reading as the new baseline."""
        if user_input is not None:
            self.hass.config_entries.async_schedule_reload(self._entry_id)
        return await super().async_step_confirm(user_input)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue: the register one, or one that is only read and
    confirmed (a charger of another integration following a renamed entity)."""
    assert data is not None
    if data.get("confirm_only"):
        return ConfirmRepairFlow()  # the user has read it (a renamed source entity)
    return AcceptRegisterFlow(str(data["entry_id"]))
