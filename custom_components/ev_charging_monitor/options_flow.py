"""Options of a charger or meter: a menu of short steps, each showing only its own fields.

Polling, where session energy is measured, and the tariff. The time-of-use tariff is edited
period by period (add, change, remove) in a working copy that is stored only on "Save".
"""

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
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.helpers.translation import async_get_translations

from .authorization.setup import is_authorization_entry
from .central_system.const import CONF_METER_PUBLIC_KEY
from .central_system.device import OcppDevice
from .central_system.setup import is_central_system_entry, is_ocpp_charger
from .central_system.signed import PublicKeyError, key_fingerprint, normalize_public_key
from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN, LOGGER
from .coordinator import EVChargingConfigEntry
from .devices import DeviceKind
from .energy_source import (
    CONF_ENERGY_METER_ENTRY,
    CONF_ENERGY_SENSOR,
    CONF_ENERGY_SOURCE,
    EnergySourceKind,
)
from .entity_charger.setup import is_entity_charger
from .ledger_link.entry import is_ledger_entry
from .price_discovery import async_price_entities, is_price_entity, preview_lines
from .pricing.options import CONF_TARIFF, migrate_tariff
from .pricing.periods import (
    DAY_CHOICES,
    PeriodError,
    describe,
    describe_season,
    first_overlap,
    new_periods,
    new_season,
    sorted_periods,
)

CONF_TARIFF_TYPE = "tariff_type"
CONF_FLAT_PRICE = "flat_price"
CONF_PRICE_ENTITY = "price_entity"
CONF_DAYS = "days"
CONF_START = "start"
CONF_END = "end"
CONF_PRICE = "price"
CONF_PERIOD = "period"
CONF_DEFAULT_PRICE = "default_price"
CONF_HOLIDAY_ENTITY = "holiday_entity"
CONF_SEASON = "season"
CONF_SEASONS = "seasons"
TARIFF_TYPES = ("none", "flat", "time_of_use", "dynamic")
# Home Assistant's own holiday sources: the workday sensor and the holiday calendar.
HOLIDAY_SOURCES = [
    {"domain": "binary_sensor", "integration": "workday"},
    {"domain": "calendar", "integration": "holiday"},
]


class EVChargingOptionsFlow(OptionsFlowWithReload):
    """Polling, energy source and tariff of a charger (a meter has polling only)."""

    def __init__(self) -> None:
        """Nothing edited yet."""
        self._tou: dict[str, Any] = {}  # the time-of-use tariff being edited
        self._editing: int | None = None  # index of the period being changed

    def _is_charger(self) -> bool:
        entry: EVChargingConfigEntry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return True  # unknown until loaded: offer every option
        return entry.runtime_data.device.capabilities.kind is DeviceKind.CHARGER

    def _save(self, **changes: Any) -> ConfigFlowResult:
        """Store the entry's options with `changes` (a None value removes the key)."""
        options = {**self.config_entry.options, **changes}
        return self.async_create_entry(
            data={key: value for key, value in options.items() if value is not None}
        )

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

    def _unit(self) -> str:
        return f"{self.hass.config.currency}/kWh"

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
            return self._save(
                **{
                    CONF_ENERGY_SOURCE: EnergySourceKind.DEVICE.value,
                    CONF_ENERGY_METER_ENTRY: None,
                    CONF_ENERGY_SENSOR: None,
                }
            )
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
                return self._save(
                    **{
                        CONF_ENERGY_SOURCE: EnergySourceKind.METER_ENTRY.value,
                        CONF_ENERGY_METER_ENTRY: meter,
                        CONF_ENERGY_SENSOR: None,
                    }
                )
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
                return self._save(
                    **{
                        CONF_ENERGY_SOURCE: EnergySourceKind.SENSOR.value,
                        CONF_ENERGY_METER_ENTRY: None,
                        CONF_ENERGY_SENSOR: sensor,
                    }
                )
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
        if options or self._tou.get("default_price") is not None:
            menu.append("tou_save")
        lines = [f"- {option['label']}" for option in options]
        default = self._tou.get("default_price")
        return self.async_show_menu(
            step_id="time_of_use",
            menu_options=menu,
            description_placeholders={
                "periods": "\n".join(lines) if lines else "-",
                "default_price": f"{default} {self._unit()}" if default is not None else "-",
                "holiday_entity": self._tou.get("holiday_entity") or "-",
                "seasons": ", ".join(describe_season(one) for one in self._seasons()) or "-",
            },
        )

    def _seasons(self) -> list[dict[str, Any]]:
        seasons: list[dict[str, Any]] = self._tou.get(CONF_SEASONS, [])
        return seasons

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

    async def async_step_meter_public_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The public key of the charger's meter, for its signed values (empty: the charger's)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get(CONF_METER_PUBLIC_KEY) or "").strip()
            if not text:
                LOGGER.info(
                    "%s: signed values use the charger's key again", self.config_entry.title
                )
                return self._save(**{CONF_METER_PUBLIC_KEY: None})
            try:
                key = normalize_public_key(text)
            except PublicKeyError:
                errors[CONF_METER_PUBLIC_KEY] = "meter_public_key_invalid"
            else:
                if key != self.config_entry.options.get(CONF_METER_PUBLIC_KEY):
                    LOGGER.info(
                        "%s: meter public key %s entered",
                        self.config_entry.title,
                        key_fingerprint(key),
                    )
                return self._save(**{CONF_METER_PUBLIC_KEY: key})
        charger_key = None
        if self.config_entry.state is ConfigEntryState.LOADED:
            device = self.config_entry.runtime_data.device
            if isinstance(inner := getattr(device, "inner", device), OcppDevice):
                charger_key = inner.charger.signed.keys.charger
        return self.async_show_form(
            step_id="meter_public_key",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_METER_PUBLIC_KEY): TextSelector(
                            TextSelectorConfig(multiline=True)
                        )
                    }
                ),
                user_input or self.config_entry.options,
            ),
            description_placeholders={"charger_key": charger_key or "-"},
            errors=errors,
        )
