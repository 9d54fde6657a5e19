"""Options flow of a charger or meter: polling, where session energy is measured, tariff."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlowWithReload
from homeassistant.helpers.selector import (
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .authorization.setup import is_authorization_entry
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN
from .coordinator import EVChargingConfigEntry
from .devices import DeviceKind
from .energy_source import (
    CONF_ENERGY_METER_ENTRY,
    CONF_ENERGY_SENSOR,
    CONF_ENERGY_SOURCE,
    EnergySourceKind,
)
from .ledger_link.entry import is_ledger_entry
from .pricing.options import (
    CONF_FLAT_PRICE,
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    CONF_TARIFF_TYPE,
    CONF_TOU_DEFAULT,
    CONF_TOU_SCHEDULE,
    TARIFF_TYPES,
    tariff_form_values,
    tariff_from_form,
)


class EVChargingOptionsFlow(OptionsFlowWithReload):
    """How often to poll, and (for chargers) where session energy is measured."""

    def _is_charger(self) -> bool:
        entry: EVChargingConfigEntry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return True  # unknown until loaded: offer every option
        return entry.runtime_data.device.capabilities.kind is DeviceKind.CHARGER

    def _meter_error(self, entry_id: str | None) -> str | None:
        meter: EVChargingConfigEntry | None = (
            self.hass.config_entries.async_get_entry(entry_id) if entry_id else None
        )
        if meter is None:
            return "meter_required"
        if (
            meter.domain != DOMAIN
            or is_authorization_entry(meter)
            or is_ledger_entry(meter)
            or meter.entry_id == self.config_entry.entry_id
            or meter.state is not ConfigEntryState.LOADED
            or meter.runtime_data.device.capabilities.kind is not DeviceKind.METER
        ):
            return "not_a_meter"
        return None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options."""
        errors: dict[str, str] = {}
        charger = self._is_charger()
        if user_input is not None:
            options: dict[str, Any] = {
                **self.config_entry.options,
                CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
            }
            for key in (CONF_ENERGY_SOURCE, CONF_ENERGY_METER_ENTRY, CONF_ENERGY_SENSOR):
                options.pop(key, None)
            source = user_input.get(CONF_ENERGY_SOURCE, EnergySourceKind.DEVICE)
            if charger:
                options[CONF_ENERGY_SOURCE] = source
            if source == EnergySourceKind.METER_ENTRY:
                meter = user_input.get(CONF_ENERGY_METER_ENTRY)
                if error := self._meter_error(meter):
                    errors[CONF_ENERGY_METER_ENTRY] = error
                options[CONF_ENERGY_METER_ENTRY] = meter
            elif source == EnergySourceKind.SENSOR:
                if not (sensor := user_input.get(CONF_ENERGY_SENSOR)):
                    errors[CONF_ENERGY_SENSOR] = "sensor_required"
                options[CONF_ENERGY_SENSOR] = sensor
            if charger:
                tariff, tariff_errors = tariff_from_form(user_input)
                errors |= tariff_errors
                options.pop(CONF_TARIFF, None)
                if tariff is not None:
                    options[CONF_TARIFF] = tariff
            if not errors:
                return self.async_create_entry(data=options)
        schema: dict[Any, Any] = {
            vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): NumberSelector(
                NumberSelectorConfig(
                    min=1, max=300, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                )
            )
        }
        if charger:
            schema |= {
                vol.Required(
                    CONF_ENERGY_SOURCE, default=EnergySourceKind.DEVICE.value
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[kind.value for kind in EnergySourceKind],
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_ENERGY_SOURCE,
                    )
                ),
                vol.Optional(CONF_ENERGY_METER_ENTRY): ConfigEntrySelector(
                    ConfigEntrySelectorConfig(integration=DOMAIN)
                ),
                vol.Optional(CONF_ENERGY_SENSOR): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.ENERGY)
                ),
                vol.Required(CONF_TARIFF_TYPE, default="none"): SelectSelector(
                    SelectSelectorConfig(
                        options=list(TARIFF_TYPES),
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_TARIFF_TYPE,
                    )
                ),
                vol.Optional(CONF_FLAT_PRICE): NumberSelector(
                    NumberSelectorConfig(
                        min=-10,
                        max=10,
                        step="any",
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement=f"{self.hass.config.currency}/kWh",
                    )
                ),
                vol.Optional(CONF_TOU_SCHEDULE): TextSelector(),
                vol.Optional(CONF_TOU_DEFAULT): NumberSelector(
                    NumberSelectorConfig(
                        min=-10,
                        max=10,
                        step="any",
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement=f"{self.hass.config.currency}/kWh",
                    )
                ),
                vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor")
                ),
            }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema),
                user_input
                or {
                    **self.config_entry.options,
                    **tariff_form_values(self.config_entry.options.get(CONF_TARIFF)),
                },
            ),
            errors=errors,
        )
