"""What every options step uses: storing the entry's options, and the unit prices are in."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode


class DeviceOptionsBase(OptionsFlowWithReload):
    """The options steps inherit it; storing reloads the entry."""

    def _save(self, **changes: Any) -> ConfigFlowResult:
        """Store the entry's options with `changes` (a None value removes the key)."""
        options = {**self.config_entry.options, **changes}
        return self.async_create_entry(
            data={key: value for key, value in options.items() if value is not None}
        )

    def _unit(self) -> str:
        return f"{self.hass.config.currency}/kWh"

    def _price_selector(self) -> NumberSelector:
        return NumberSelector(
            NumberSelectorConfig(
                min=-10,
                max=10,
                step="any",
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=self._unit(),
            )
        )
