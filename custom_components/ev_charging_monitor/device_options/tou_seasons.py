"""Seasons of the time-of-use tariff: parts of the year that periods can be limited to."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ..pricing.periods import PeriodError, describe_season, new_season
from .time_of_use import CONF_SEASON, CONF_SEASONS, TimeOfUseSteps


class SeasonSteps(TimeOfUseSteps):
    """Add a season; remove those no period uses."""

    async def async_step_tou_season_add(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A part of the year that periods can be limited to."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                season = new_season(user_input, self._seasons())
            except PeriodError as err:
                errors[err.field] = err.key
            else:
                self._tou[CONF_SEASONS] = [*self._seasons(), season]
                return await self.async_step_time_of_use()
        text = TextSelector(TextSelectorConfig(autocomplete="off"))
        return self.async_show_form(
            step_id="tou_season_add",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional("name"): text,
                        vol.Optional("first"): text,
                        vol.Optional("last"): text,
                    }
                ),
                user_input or {},
            ),
            errors=errors,
        )

    async def async_step_tou_season_remove(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Remove seasons no period uses."""
        errors: dict[str, str] = {}
        if user_input is not None:
            gone = set(user_input.get(CONF_SEASONS, []))
            if any(period.get(CONF_SEASON) in gone for period in self._tou["periods"]):
                errors[CONF_SEASONS] = "season_in_use"
            else:
                self._tou[CONF_SEASONS] = [s for s in self._seasons() if s["name"] not in gone]
                if not self._tou[CONF_SEASONS]:
                    del self._tou[CONF_SEASONS]
                return await self.async_step_time_of_use()
        return self.async_show_form(
            step_id="tou_season_remove",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_SEASONS, default=[]): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(value=s["name"], label=describe_season(s))
                                for s in self._seasons()
                            ],
                            multiple=True,
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
            errors=errors,
        )
