"""The kind of tariff, and the price of a flat or a dynamic one (time of use has its own)."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ..price_discovery import async_price_entities, is_price_entity, preview_lines
from ..pricing.options import CONF_TARIFF, migrate_tariff
from .time_of_use import TimeOfUseSteps

CONF_TARIFF_TYPE = "tariff_type"
CONF_FLAT_PRICE = "flat_price"
CONF_PRICE_ENTITY = "price_entity"
TARIFF_TYPES = ("none", "flat", "time_of_use", "dynamic")


class TariffSteps(TimeOfUseSteps):
    """The kind of tariff, then its prices."""

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The kind of tariff; its prices are asked next."""
        stored = self.config_entry.options.get(CONF_TARIFF) or {}
        if user_input is not None:
            match user_input[CONF_TARIFF_TYPE]:
                case "flat":
                    return await self.async_step_flat()
                case "dynamic":
                    return await self.async_step_dynamic()
                case "time_of_use":
                    current = stored if stored.get("type") == "time_of_use" else {}
                    migrated = migrate_tariff(current) or {}
                    self._tou = {"type": "time_of_use", "periods": [], **migrated}
                    return await self.async_step_time_of_use()
            return self._save(**{CONF_TARIFF: None})
        return self.async_show_form(
            step_id="tariff",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_TARIFF_TYPE, default=stored.get("type", "none")
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=list(TARIFF_TYPES),
                            mode=SelectSelectorMode.LIST,
                            translation_key=CONF_TARIFF_TYPE,
                        )
                    )
                }
            ),
        )

    async def async_step_flat(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One price for every kWh."""
        errors: dict[str, str] = {}
        stored = self.config_entry.options.get(CONF_TARIFF) or {}
        if user_input is not None:
            if user_input.get(CONF_FLAT_PRICE) is None:
                errors[CONF_FLAT_PRICE] = "price_required"
            else:
                return self._save(
                    **{CONF_TARIFF: {"type": "flat", "price": str(user_input[CONF_FLAT_PRICE])}}
                )
        suggested = (
            {CONF_FLAT_PRICE: float(stored["price"])} if stored.get("type") == "flat" else {}
        )
        return self.async_show_form(
            step_id="flat",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Optional(CONF_FLAT_PRICE): self._price_selector()}), suggested
            ),
            errors=errors,
        )

    async def async_step_dynamic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A price sensor; the ones found are listed with today's prices."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input.get(CONF_PRICE_ENTITY)
            if not entity_id:
                errors[CONF_PRICE_ENTITY] = "price_entity_required"
            elif not is_price_entity(self.hass, entity_id):
                errors[CONF_PRICE_ENTITY] = "not_a_price_entity"
            else:
                return self._save(**{CONF_TARIFF: {"type": "dynamic", "entity_id": entity_id}})
        found = async_price_entities(self.hass)
        stored = self.config_entry.options.get(CONF_TARIFF) or {}
        suggested = stored.get("entity_id") if stored.get("type") == "dynamic" else None
        if suggested is None and found:
            suggested = found[0].entity_id
        lines = preview_lines(self.hass, found)
        return self.async_show_form(
            step_id="dynamic",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                            EntitySelectorConfig(domain=["sensor", "event"])
                        )
                    }
                ),
                {CONF_PRICE_ENTITY: (user_input or {}).get(CONF_PRICE_ENTITY) or suggested},
            ),
            errors=errors,
            description_placeholders={"found": "\n".join(lines) if lines else "-"},
        )
