"""Where a charger's session energy is measured: itself, a meter of ours, or any sensor."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.helpers.selector import (
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ..authorization.setup import is_authorization_entry
from ..central_system.setup import is_central_system_entry
from ..const import DOMAIN
from ..coordinator import EVChargingConfigEntry
from ..devices import DeviceKind
from ..energy_source import (
    CONF_ENERGY_METER_ENTRY,
    CONF_ENERGY_SENSOR,
    CONF_ENERGY_SOURCE,
    EnergySourceKind,
)
from ..ledger_link.entry import is_ledger_entry
from .base import DeviceOptionsBase


class EnergySourceSteps(DeviceOptionsBase):
    """The kind of source, then the meter or the sensor."""

    def _save_source(
        self, kind: EnergySourceKind, *, meter: str | None = None, sensor: str | None = None
    ) -> ConfigFlowResult:
        """Store the source; what another kind of source needed goes."""
        return self._save(
            **{
                CONF_ENERGY_SOURCE: kind.value,
                CONF_ENERGY_METER_ENTRY: meter,
                CONF_ENERGY_SENSOR: sensor,
            }
        )

    async def async_step_energy_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where session energy is measured; a meter or a sensor is chosen next."""
        if user_input is not None:
            match user_input[CONF_ENERGY_SOURCE]:
                case EnergySourceKind.METER_ENTRY:
                    return await self.async_step_energy_meter()
                case EnergySourceKind.SENSOR:
                    return await self.async_step_energy_sensor()
            return self._save_source(EnergySourceKind.DEVICE)
        return self.async_show_form(
            step_id="energy_source",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_ENERGY_SOURCE,
                        default=self.config_entry.options.get(
                            CONF_ENERGY_SOURCE, EnergySourceKind.DEVICE.value
                        ),
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=[kind.value for kind in EnergySourceKind],
                            mode=SelectSelectorMode.LIST,
                            translation_key=CONF_ENERGY_SOURCE,
                        )
                    )
                }
            ),
        )

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
            or is_central_system_entry(meter)
            or meter.entry_id == self.config_entry.entry_id
            or meter.state is not ConfigEntryState.LOADED
            or meter.runtime_data.device.capabilities.kind is not DeviceKind.METER
        ):
            return "not_a_meter"
        return None

    async def async_step_energy_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The meter of this integration that measures the charger alone."""
        errors: dict[str, str] = {}
        if user_input is not None:
            meter = user_input.get(CONF_ENERGY_METER_ENTRY)
            if error := self._meter_error(meter):
                errors[CONF_ENERGY_METER_ENTRY] = error
            else:
                return self._save_source(EnergySourceKind.METER_ENTRY, meter=meter)
        return self.async_show_form(
            step_id="energy_meter",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_ENERGY_METER_ENTRY): ConfigEntrySelector(
                            ConfigEntrySelectorConfig(integration=DOMAIN)
                        )
                    }
                ),
                user_input or self.config_entry.options,
            ),
            errors=errors,
        )

    async def async_step_energy_sensor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Any energy sensor of Home Assistant (e.g. a MID meter of another integration)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (sensor := user_input.get(CONF_ENERGY_SENSOR)):
                errors[CONF_ENERGY_SENSOR] = "sensor_required"
            else:
                return self._save_source(EnergySourceKind.SENSOR, sensor=sensor)
        return self.async_show_form(
            step_id="energy_sensor",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_ENERGY_SENSOR): EntitySelector(
                            EntitySelectorConfig(
                                domain="sensor", device_class=SensorDeviceClass.ENERGY
                            )
                        )
                    }
                ),
                user_input or self.config_entry.options,
            ),
            errors=errors,
        )
