"""Config-flow steps of "A charger from another integration".

entities: pick the charger's device (or nothing, to pick entities one by one); we propose a
mapping (presets.py). entities_map: the user confirms or changes it. entities_states: what
each state word of the status sensor means. entities_monitor_only: without a control,
authorization cannot hold the charger; the user may still add it to monitor.
"""

from __future__ import annotations

from typing import Any, Final

import probatio as vol
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow, ConfigFlowResult
from homeassistant.const import ATTR_FRIENDLY_NAME, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util.unit_conversion import EnergyConverter

from ..const import CONF_DRIVER
from .mapping import (
    CONF_MAPPING,
    DRIVER_ENTITIES,
    ENABLE_SELECT,
    MEANINGS,
    EntityMapping,
    normalize_word,
)
from .presets import Candidate, load_presets, propose

CONF_DEVICE: Final = "device"
CONF_ENABLE_ON: Final = "enable_on"
CONF_ENABLE_OFF: Final = "enable_off"
CONF_LIMIT_ACTION: Final = "limit_action"
_SINGLE_ROLES: Final = (
    "status",
    "plug",
    "charging",
    "power",
    "energy",
    "session_energy",
    "rfid",
    "enable",
    "limit",
)
_PHASES: Final = ("current_l1", "current_l2", "current_l3")
# The order of the mapping form: what the charger is, what it measures, what it obeys.
_FORM_ORDER: Final = (
    "status",
    "plug",
    "charging",
    "power",
    "energy",
    "session_energy",
    *_PHASES,
    "rfid",
    "enable",
    "limit",
)


def _entity(domains: list[str]) -> EntitySelector:
    # Helpers (input_*) are offered too: a charger may be built from them by hand.
    return EntitySelector(EntitySelectorConfig(domain=domains))


_SELECTORS: Final[dict[str, EntitySelector]] = {
    "status": _entity(["sensor", "binary_sensor", "input_select"]),
    "plug": _entity(["binary_sensor", "input_boolean"]),
    "charging": _entity(["binary_sensor", "input_boolean"]),
    "power": _entity(["sensor", "input_number"]),
    "energy": _entity(["sensor", "input_number"]),
    "session_energy": _entity(["sensor", "input_number"]),
    "current_l1": _entity(["sensor", "input_number"]),
    "current_l2": _entity(["sensor", "input_number"]),
    "current_l3": _entity(["sensor", "input_number"]),
    "rfid": _entity(["sensor", "input_text", "text"]),
    "enable": _entity(["switch", "input_boolean", "select", "input_select"]),
    "limit": _entity(["number", "input_number"]),
}


def candidates(hass: HomeAssistant, device_id: str) -> list[Candidate]:
    """The device's enabled entities, as the registry and the state machine describe them."""
    registry = er.async_get(hass)
    found = []
    for item in er.async_entries_for_device(registry, device_id):
        state = hass.states.get(item.entity_id)
        attributes = {} if state is None else state.attributes
        capabilities = item.capabilities or {}
        options = capabilities.get("options") or attributes.get("options") or ()
        found.append(
            Candidate(
                entity_id=item.entity_id,
                platform=item.platform,
                unique_id=str(item.unique_id),
                translation_key=item.translation_key,
                device_class=item.device_class or item.original_device_class,
                unit=attributes.get(ATTR_UNIT_OF_MEASUREMENT, item.unit_of_measurement),
                state_class=capabilities.get("state_class"),
                options=tuple(str(option) for option in options),
            )
        )
    return found


class EntityChargerSteps(ConfigFlow):
    """The steps; the integration's config flow inherits them."""

    _ec_mapping: EntityMapping | None = None
    _ec_title: str | None = None

    async def async_step_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the charger's device, or none to pick its entities one by one."""
        if user_input is not None:
            device_id = user_input.get(CONF_DEVICE) or None
            presets = await self.hass.async_add_executor_job(load_presets)
            found = [] if device_id is None else candidates(self.hass, device_id)
            mapping = propose(presets, found, device_id=device_id)
            if mapping.status and (state := self.hass.states.get(mapping.status)):
                # The word shown now is offered too, also where no option list names it.
                mapping = propose(presets, found, device_id=device_id, words=(state.state,))
            self._ec_mapping = mapping
            if device_id is not None and (device := dr.async_get(self.hass).async_get(device_id)):
                self._ec_title = device.name_by_user or device.name
            return await self.async_step_entities_map()
        return self.async_show_form(
            step_id="entities",
            data_schema=vol.Schema(
                {vol.Optional(CONF_DEVICE): DeviceSelector(DeviceSelectorConfig())}
            ),
        )

    def _map_schema(self) -> vol.Schema:
        schema: dict[Any, Any] = {}
        for role in _FORM_ORDER:
            key = vol.Required(role) if role == "energy" else vol.Optional(role)
            schema[key] = _SELECTORS[role]
        schema[vol.Optional(CONF_ENABLE_ON)] = TextSelector()
        schema[vol.Optional(CONF_ENABLE_OFF)] = TextSelector()
        schema[vol.Optional(CONF_LIMIT_ACTION)] = TextSelector()
        return vol.Schema(schema)

    def _map_values(self, mapping: EntityMapping) -> dict[str, Any]:
        values: dict[str, Any] = {
            role: getattr(mapping, role) for role in _SINGLE_ROLES if getattr(mapping, role)
        }
        values.update(zip(_PHASES, mapping.currents, strict=False))
        for key, value in (
            (CONF_ENABLE_ON, mapping.enable_on),
            (CONF_ENABLE_OFF, mapping.enable_off),
            (CONF_LIMIT_ACTION, mapping.limit_action),
        ):
            if value:
                values[key] = value
        return values

    def _map_errors(self, mapping: EntityMapping) -> dict[str, str]:
        errors: dict[str, str] = {}
        if mapping.status is None and mapping.plug is None:
            errors["base"] = "state_required"
        energy = self.hass.states.get(mapping.energy)
        unit = None if energy is None else energy.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if unit is None and (item := er.async_get(self.hass).async_get(mapping.energy)):
            unit = item.unit_of_measurement
        if unit not in EnergyConverter.VALID_UNITS:
            errors["energy"] = "energy_unit"
        if mapping.enable_kind == ENABLE_SELECT and not mapping.can_enable:
            errors[CONF_ENABLE_ON] = "select_options_required"
        if (action := mapping.limit_action) is not None:
            domain, _, service = action.partition(".")
            if not self.hass.services.has_service(domain, service):
                errors[CONF_LIMIT_ACTION] = "unknown_action"
        return errors

    async def async_step_entities_map(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm or change which entity stands for what."""
        proposal = self._ec_mapping or EntityMapping()
        errors: dict[str, str] = {}
        if user_input is not None:
            values = {role: user_input.get(role) or None for role in _SINGLE_ROLES}
            values["energy"] = user_input["energy"]
            currents = tuple(user_input[p] for p in _PHASES if user_input.get(p))
            action = (user_input.get(CONF_LIMIT_ACTION) or "").strip() or None
            same_action = action == proposal.limit_action
            mapping = EntityMapping.from_dict(
                {
                    **proposal.as_dict(),
                    **values,
                    "currents": currents,
                    "enable_on": user_input.get(CONF_ENABLE_ON) or None,
                    "enable_off": user_input.get(CONF_ENABLE_OFF) or None,
                    "limit_action": None if values["limit"] else action,
                    "limit_data": proposal.limit_data if same_action else {},
                    "limit_field": proposal.limit_field if same_action else "current",
                }
            )
            errors = self._map_errors(mapping)
            if not errors:
                self._ec_mapping = mapping
                if mapping.status is not None and not mapping.status.startswith("binary_sensor."):
                    return await self.async_step_entities_states()
                return await self._controls()
        return self.async_show_form(
            step_id="entities_map",
            data_schema=self.add_suggested_values_to_schema(
                self._map_schema(), user_input or self._map_values(proposal)
            ),
            errors=errors,
            description_placeholders={"preset": proposal.preset or "-"},
        )

    def _words(self, mapping: EntityMapping) -> list[str]:
        assert mapping.status is not None
        words = list(mapping.states)
        state = self.hass.states.get(mapping.status)
        options: list[Any] = []
        if state is not None:
            options = [*state.attributes.get("options", ()), state.state]
        if item := er.async_get(self.hass).async_get(mapping.status):
            options += list((item.capabilities or {}).get("options", ()))
        for option in options:
            word = normalize_word(str(option))
            if word not in words and word not in ("unknown", "unavailable", ""):
                words.append(word)
        return words

    async def async_step_entities_states(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What each word of the status sensor means (IEC 61851 states A to F)."""
        mapping = self._ec_mapping
        assert mapping is not None
        words = self._words(mapping)
        if user_input is not None:
            states = {
                word: user_input.get(word, mapping.states.get(word, "none")) for word in words
            }
            self._ec_mapping = EntityMapping.from_dict({**mapping.as_dict(), "states": states})
            return await self._controls()
        selector = SelectSelector(
            SelectSelectorConfig(
                options=list(MEANINGS),
                mode=SelectSelectorMode.DROPDOWN,
                translation_key="state_meaning",
            )
        )
        plug = "plug" if mapping.plug else "none"
        return self.async_show_form(
            step_id="entities_states",
            data_schema=vol.Schema(
                {
                    vol.Required(word, default=mapping.states.get(word, plug)): selector
                    for word in words
                }
            ),
            description_placeholders={"entity": mapping.status or ""},
        )

    async def _controls(self) -> ConfigFlowResult:
        mapping = self._ec_mapping
        assert mapping is not None
        if mapping.controllable:
            return await self.async_step_entities_create()
        return await self.async_step_entities_monitor_only()

    async def async_step_entities_monitor_only(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Nothing can hold this charger: add it to monitor only, or map a control."""
        return self.async_show_menu(
            step_id="entities_monitor_only",
            menu_options=["entities_create", "entities_map"],
        )

    async def async_reconfigure_entities(self) -> ConfigFlowResult:
        """Reconfigure: the stored mapping, to confirm or change (new entities, a control)."""
        entry = self._get_reconfigure_entry()
        self._ec_mapping = EntityMapping.from_dict(entry.data[CONF_MAPPING])
        self._ec_title = entry.title
        return await self.async_step_entities_map()

    async def async_step_entities_create(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the charger (or, reconfiguring, store its new mapping)."""
        mapping = self._ec_mapping
        assert mapping is not None
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return self.async_update_reload_and_abort(
                entry, data={**entry.data, CONF_MAPPING: mapping.as_dict()}
            )
        anchor = mapping.device_id or mapping.status or mapping.plug or mapping.energy
        await self.async_set_unique_id(f"{DRIVER_ENTITIES}_{anchor}")
        self._abort_if_unique_id_configured()
        title = self._ec_title
        if title is None:
            state = self.hass.states.get(anchor)
            title = str(state.attributes.get(ATTR_FRIENDLY_NAME, anchor)) if state else anchor
        return self.async_create_entry(
            title=title,
            data={CONF_DRIVER: DRIVER_ENTITIES, CONF_MAPPING: mapping.as_dict()},
        )
