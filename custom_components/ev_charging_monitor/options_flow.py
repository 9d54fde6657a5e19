"""Options of a charger or meter: a menu of short steps, each showing only its own fields.

Polling is here; where session energy is measured, the tariff and an OCPP meter's key are
in device_options/, one module a topic.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode

from .central_system.setup import is_ocpp_charger
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL
from .coordinator import EVChargingConfigEntry
from .device_options.energy_source import EnergySourceSteps
from .device_options.meter_public_key import MeterPublicKeySteps
from .device_options.tariff import TariffSteps
from .device_options.tou_periods import PeriodSteps
from .device_options.tou_seasons import SeasonSteps
from .devices import DeviceKind
from .entity_charger.setup import is_entity_charger


class EVChargingOptionsFlow(
    EnergySourceSteps, TariffSteps, PeriodSteps, SeasonSteps, MeterPublicKeySteps
):
    """Polling, energy source and tariff of a charger (a meter has polling only)."""

    def _is_charger(self) -> bool:
        entry: EVChargingConfigEntry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return True  # unknown until loaded: offer every option
        return entry.runtime_data.device.capabilities.kind is DeviceKind.CHARGER

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The menu; a meter has nothing but its polling interval."""
        if not self._is_charger():
            return await self.async_step_polling(user_input)
        # A charger that reports by itself (OCPP, another integration) is never polled.
        pushes = is_entity_charger(self.config_entry) or is_ocpp_charger(self.config_entry)
        menu = ["energy_source", "tariff"] if pushes else ["polling", "energy_source", "tariff"]
        if is_ocpp_charger(self.config_entry):
            menu.append("meter_public_key")
        return self.async_show_menu(step_id="init", menu_options=menu)

    async def async_step_polling(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How often live values are read."""
        if user_input is not None:
            return self._save(**{CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL])})
        return self.async_show_form(
            step_id="polling",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(
                            CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL
                        ): NumberSelector(
                            NumberSelectorConfig(
                                min=1, max=300, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                            )
                        )
                    }
                ),
                self.config_entry.options,
            ),
        )
