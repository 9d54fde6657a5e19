"""Periods of the time-of-use tariff: add, change and remove, each checked against the rest."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)

from ..pricing.periods import (
    DAY_CHOICES,
    PeriodError,
    describe,
    first_overlap,
    new_periods,
    sorted_periods,
)
from .time_of_use import CONF_DAYS, CONF_SEASON, TimeOfUseSteps

CONF_START = "start"
CONF_END = "end"
CONF_PRICE = "price"
CONF_PERIOD = "period"


class PeriodSteps(TimeOfUseSteps):
    """A period's form, and the choice of the periods to change or remove."""

    def _period_schema(self) -> vol.Schema:
        seasons: dict[Any, Any] = {}
        if names := [season["name"] for season in self._seasons()]:
            # Without a season, a period applies all year.
            seasons[vol.Optional(CONF_SEASON)] = SelectSelector(
                SelectSelectorConfig(options=names, mode=SelectSelectorMode.DROPDOWN)
            )
        return vol.Schema(
            {
                vol.Optional(CONF_DAYS): SelectSelector(
                    SelectSelectorConfig(
                        options=DAY_CHOICES,
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_DAYS,
                    )
                ),
                vol.Optional(CONF_START): TimeSelector(),
                vol.Optional(CONF_END): TimeSelector(),
                vol.Optional(CONF_PRICE): self._price_selector(),
                **seasons,
            }
        )

    async def _period_form(
        self, step_id: str, user_input: dict[str, Any] | None, suggested: dict[str, Any]
    ) -> ConfigFlowResult:
        """Validate a period against the others (per day); store it or show the errors."""
        errors: dict[str, str] = {}
        placeholders = {"other": ""}
        if user_input is not None:
            others = [
                period
                for index, period in enumerate(self._tou["periods"])
                if index != self._editing
            ]
            try:
                added = new_periods(user_input)
            except PeriodError as err:
                errors[err.field] = err.key
            else:
                if (other := first_overlap(added, others, self._seasons())) is not None:
                    errors["base"] = "period_overlaps"
                    placeholders["other"] = describe(other, await self._day_names(), self._unit())
                else:
                    self._tou["periods"] = sorted_periods([*others, *added])
                    self._editing = None
                    return await self.async_step_time_of_use()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                self._period_schema(), user_input or suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_tou_add(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new period: days, start, end and price."""
        self._editing = None
        return await self._period_form("tou_add", user_input, {})

    async def async_step_tou_edit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the period to change."""
        if user_input is not None:
            self._editing = int(user_input[CONF_PERIOD])
            return await self.async_step_tou_change()
        return self.async_show_form(
            step_id="tou_edit",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_PERIOD): SelectSelector(
                        SelectSelectorConfig(
                            options=await self._period_options(), mode=SelectSelectorMode.LIST
                        )
                    )
                }
            ),
        )

    async def async_step_tou_change(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The chosen period, to change."""
        assert self._editing is not None
        period = self._tou["periods"][self._editing]
        suggested = {
            CONF_DAYS: period["days"],
            CONF_START: f"{period['start']}:00",
            CONF_END: f"{period['end']}:00",
            CONF_PRICE: float(period["price"]),
        }
        if period.get(CONF_SEASON):
            suggested[CONF_SEASON] = period[CONF_SEASON]
        return await self._period_form("tou_change", user_input, suggested)

    async def async_step_tou_remove(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose periods to remove."""
        if user_input is not None:
            gone = {int(index) for index in user_input.get(CONF_PERIOD, [])}
            self._tou["periods"] = [
                period for index, period in enumerate(self._tou["periods"]) if index not in gone
            ]
            return await self.async_step_time_of_use()
        return self.async_show_form(
            step_id="tou_remove",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_PERIOD, default=[]): SelectSelector(
                        SelectSelectorConfig(
                            options=await self._period_options(),
                            multiple=True,
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )
