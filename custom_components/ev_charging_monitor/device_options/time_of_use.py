"""The time-of-use tariff: its menu, edited in a copy that is stored only on "Save".

Periods (tou_periods.py) have days, a start, an end and a price, and may be limited to a
season (tou_seasons.py); the default price applies where no period does, and holidays come
from an entity of Home Assistant's own.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig, SelectOptionDict
from homeassistant.helpers.translation import async_get_translations

from ..const import DOMAIN
from ..pricing.options import CONF_TARIFF
from ..pricing.periods import DAY_CHOICES, describe, describe_season
from .base import DeviceOptionsBase

CONF_DAYS = "days"
CONF_DEFAULT_PRICE = "default_price"
CONF_HOLIDAY_ENTITY = "holiday_entity"
CONF_SEASON = "season"
CONF_SEASONS = "seasons"
# Home Assistant's own holiday sources: the workday sensor and the holiday calendar.
HOLIDAY_SOURCES = [
    {"domain": "binary_sensor", "integration": "workday"},
    {"domain": "calendar", "integration": "holiday"},
]


class TimeOfUseSteps(DeviceOptionsBase):
    """The schedule's menu, its other settings, and storing it."""

    def __init__(self) -> None:
        """Nothing edited yet."""
        super().__init__()
        self._tou: dict[str, Any] = {}  # the time-of-use tariff being edited
        self._editing: int | None = None  # index of the period being changed

    def _seasons(self) -> list[dict[str, Any]]:
        seasons: list[dict[str, Any]] = self._tou.get(CONF_SEASONS, [])
        return seasons

    async def _day_names(self) -> dict[str, str]:
        """The days' names in Home Assistant's language (a flow is not told the browser's)."""
        prefix = f"component.{DOMAIN}.selector.{CONF_DAYS}.options."
        texts = await async_get_translations(
            self.hass, self.hass.config.language, "selector", {DOMAIN}
        )
        return {day: texts.get(prefix + day, day) for day in DAY_CHOICES}

    async def _period_options(self) -> list[SelectOptionDict]:
        names = await self._day_names()
        return [
            SelectOptionDict(value=str(index), label=describe(period, names, self._unit()))
            for index, period in enumerate(self._tou["periods"])
        ]

    async def async_step_time_of_use(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The schedule so far, and what to do with it."""
        options = await self._period_options()
        menu = ["tou_add"]
        if options:
            menu += ["tou_edit", "tou_remove"]
        menu.append("tou_season_add")
        if self._seasons():
            menu.append("tou_season_remove")
        menu.append("tou_other")
        if options or self._tou.get(CONF_DEFAULT_PRICE) is not None:
            menu.append("tou_save")
        lines = [f"- {option['label']}" for option in options]
        default = self._tou.get(CONF_DEFAULT_PRICE)
        return self.async_show_menu(
            step_id="time_of_use",
            menu_options=menu,
            description_placeholders={
                "periods": "\n".join(lines) if lines else "-",
                "default_price": f"{default} {self._unit()}" if default is not None else "-",
                "holiday_entity": self._tou.get(CONF_HOLIDAY_ENTITY) or "-",
                "seasons": ", ".join(describe_season(one) for one in self._seasons()) or "-",
            },
        )

    async def async_step_tou_other(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The price when no period applies, and where holidays come from."""
        if user_input is not None:
            for key in (CONF_DEFAULT_PRICE, CONF_HOLIDAY_ENTITY):
                self._tou.pop(key, None)
            if user_input.get(CONF_DEFAULT_PRICE) is not None:
                self._tou[CONF_DEFAULT_PRICE] = str(user_input[CONF_DEFAULT_PRICE])
            if user_input.get(CONF_HOLIDAY_ENTITY):
                self._tou[CONF_HOLIDAY_ENTITY] = user_input[CONF_HOLIDAY_ENTITY]
            return await self.async_step_time_of_use()
        suggested: dict[str, Any] = {}
        if (default := self._tou.get(CONF_DEFAULT_PRICE)) is not None:
            suggested[CONF_DEFAULT_PRICE] = float(default)
        if holiday := self._tou.get(CONF_HOLIDAY_ENTITY):
            suggested[CONF_HOLIDAY_ENTITY] = holiday
        return self.async_show_form(
            step_id="tou_other",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_DEFAULT_PRICE): self._price_selector(),
                        vol.Optional(CONF_HOLIDAY_ENTITY): EntitySelector(
                            EntitySelectorConfig(filter=HOLIDAY_SOURCES)  # type: ignore[typeddict-item]
                        ),
                    }
                ),
                suggested,
            ),
        )

    async def async_step_tou_save(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the schedule."""
        return self._save(**{CONF_TARIFF: dict(self._tou)})
