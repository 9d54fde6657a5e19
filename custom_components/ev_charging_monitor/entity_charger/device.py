"""A Device whose readings are the mapped entities' states and whose commands are actions.

Units are converted as Home Assistant converts them (kWh, Wh and MWh; W, kW and mW; A and
mA), from the unit each state carries. `unknown` and `unavailable` are "no data", never
"no vehicle". The charger counts as offline only while its plug state cannot be told.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    PowerConverter,
)

from ..const import LOGGER
from ..devices import (
    Capabilities,
    ChargerState,
    DeviceConnectionError,
    DeviceKind,
    Identity,
    Reading,
    UnsupportedDeviceError,
)
from ..energy_source import state_energy_wh
from .mapping import ENABLE_SELECT, NO_VALUE_STATES, PLUG, EntityMapping, letter, normalize_word

# Words RFID entities show when no card is there, whatever the integration.
RFID_IDLE = frozenset({"none", "null", "no card", "no_card", "no chip", "no transaction"})


def _value(state: State | None) -> str | None:
    if state is None or state.state in NO_VALUE_STATES:
        return None
    return state.state


def _binary(state: State | None) -> bool | None:
    value = _value(state)
    return None if value is None else value == STATE_ON


def convert(
    state: State | None, converter: type[BaseUnitConverter], unit: str, *, default: str | None
) -> float | None:
    """The state as a finite number in `unit`; None when it is none or has no known unit."""
    value = _value(state)
    if value is None or state is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    source = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or default
    if source not in converter.VALID_UNITS:
        return None
    return converter.convert(number, source, unit)


def energy_wh(state: State | None) -> float | None:
    """An energy state in Wh; None when it is none, no finite number, or has no energy unit."""
    if _value(state) is None or state is None:
        return None
    return state_energy_wh(state)


class EntityChargerDevice:
    """The Device interface over another integration's entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        mapping: EntityMapping,
        *,
        now: Callable[[], datetime] = lambda: dt_util.utcnow(),
    ) -> None:
        """Read `mapping`'s entities from `hass`'s state machine."""
        self.hass = hass
        self.mapping = mapping
        self.host = mapping.device_id or mapping.status or mapping.plug or ""
        self._now = now
        # A card shown before this moment belongs to an earlier plug cycle (or to the time
        # before setup): an RFID entity that keeps the last card must not open the next one.
        self._cards_from = now()
        self._last_state: ChargerState | None = None
        self._unknown_words: set[str] = set()

    @property
    def capabilities(self) -> Capabilities:
        """From the mapping and the limit number's range."""
        mapping = self.mapping
        low = high = None
        if mapping.limit is not None and (number := self.hass.states.get(mapping.limit)):
            low = _float(number.attributes.get("min"))
            high = _float(number.attributes.get("max"))
        return Capabilities(
            kind=DeviceKind.CHARGER,
            phases=len(mapping.currents) or 3,
            min_current_a=low,
            max_current_a=high,
            can_set_current=mapping.can_set_current,
            can_enable=mapping.can_enable,
            has_session_energy=mapping.session_energy is not None,
            has_rfid=mapping.rfid is not None,
        )

    async def identify(self) -> Identity:
        """The source device's registry entry."""
        registry = dr.async_get(self.hass)
        device = (
            None if self.mapping.device_id is None else registry.async_get(self.mapping.device_id)
        )
        if not isinstance(device, dr.DeviceEntry):
            return Identity(manufacturer=self.mapping.preset or "Home Assistant", model="Charger")
        return Identity(
            manufacturer=device.manufacturer or self.mapping.preset or "Home Assistant",
            model=device.model or device.name or "Charger",
            serial=device.serial_number,
            firmware=device.sw_version,
        )

    def _state(self, entity_id: str | None) -> State | None:
        return None if entity_id is None else self.hass.states.get(entity_id)

    def charger_state(self) -> ChargerState | None:
        """The IEC state the mapped entities show now; None when it cannot be told."""
        mapping = self.mapping
        plugged = _binary(self._state(mapping.plug))
        charging = _binary(self._state(mapping.charging))
        result: ChargerState | None
        if mapping.status is not None:
            status = self._state(mapping.status)
            word = _value(status)
            if word is None:
                return None
            if mapping.status.startswith("binary_sensor."):
                result = ChargerState.B if word == STATE_ON else ChargerState.A
            else:
                meaning = mapping.meaning(word)
                if meaning is None:
                    if normalize_word(word) not in self._unknown_words:
                        self._unknown_words.add(normalize_word(word))
                        LOGGER.warning(
                            "%s shows %r, which the charger's state mapping does not know; "
                            "the plug sensor decides",
                            mapping.status,
                            word,
                        )
                    meaning = PLUG
                result = letter(meaning, plugged)
        else:
            result = letter(PLUG, plugged)
        if result is ChargerState.B and charging:
            return ChargerState.C
        return result

    def _card(self, state: ChargerState | None) -> str | None:
        mapping = self.mapping
        if state is ChargerState.A and self._last_state is not ChargerState.A:
            self._cards_from = self._now()
        if state is not None:
            self._last_state = state
        card = self._state(mapping.rfid)
        value = _value(card)
        if value is None or card is None:
            return None
        idle = RFID_IDLE | {normalize_word(word) for word in mapping.rfid_idle}
        if normalize_word(value) in idle or card.last_changed < self._cards_from:
            return None
        return value

    async def read(self) -> Reading:
        """The mapped entities' states now, as one reading."""
        mapping = self.mapping
        state = self.charger_state()
        if state is None:
            raise DeviceConnectionError(
                f"the charger's state entities ({mapping.status or mapping.plug}) show no state"
            )
        currents = [
            convert(self._state(e), ElectricCurrentConverter, "A", default="A")
            for e in mapping.currents
        ]
        currents += [None] * (3 - len(currents))
        enabled = None
        if (switch := _value(self._state(mapping.enable))) is not None:
            enabled = (
                switch != mapping.enable_off
                if mapping.enable_kind == ENABLE_SELECT
                else switch == STATE_ON
            )
        return Reading(
            state=state,
            power=convert(self._state(mapping.power), PowerConverter, "W", default=None),
            energy=energy_wh(self._state(mapping.energy)),
            session_energy=energy_wh(self._state(mapping.session_energy)),
            current_l1=currents[0],
            current_l2=currents[1],
            current_l3=currents[2],
            current_limit=convert(
                self._state(mapping.limit), ElectricCurrentConverter, "A", default="A"
            ),
            enabled=enabled,
            rfid=self._card(state),
        )

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        try:
            await self.hass.services.async_call(domain, service, data, blocking=True)
        except (HomeAssistantError, ValueError, vol.Invalid) as err:
            # The other integration refused or is offline: like a charger that did not
            # answer, so authorization tries again at the next reading.
            raise DeviceConnectionError(f"{domain}.{service} failed: {err}") from err

    async def set_current_limit(self, amps: float) -> None:
        """Set the mapped number, or call the mapped action with the current."""
        mapping = self.mapping
        if mapping.limit is not None:
            domain = mapping.limit.partition(".")[0]  # number or input_number
            await self._call(domain, "set_value", {ATTR_ENTITY_ID: mapping.limit, "value": amps})
            return
        if mapping.limit_action is None:
            raise UnsupportedDeviceError("no current limit is mapped")
        domain, _, service = mapping.limit_action.partition(".")
        data: dict[str, Any] = dict(mapping.limit_data)
        if mapping.device_id is not None:
            data.setdefault("device_id", mapping.device_id)
        data[mapping.limit_field] = amps
        await self._call(domain, service, data)

    async def set_enabled(self, enabled: bool) -> None:
        """Switch the mapped switch, or choose the select's option."""
        mapping = self.mapping
        if not mapping.can_enable or mapping.enable is None:
            raise UnsupportedDeviceError("no charging switch is mapped")
        domain = mapping.enable.partition(".")[0]
        if mapping.enable_kind == ENABLE_SELECT:
            option = mapping.enable_on if enabled else mapping.enable_off
            await self._call(
                domain, "select_option", {ATTR_ENTITY_ID: mapping.enable, "option": option}
            )
            return
        service = "turn_on" if enabled else "turn_off"
        await self._call(domain, service, {ATTR_ENTITY_ID: mapping.enable})

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """Another integration's charger has no failsafe we could write."""
        raise UnsupportedDeviceError("a charger of another integration has no failsafe setting")

    @property
    def watchdog_interval(self) -> float | None:
        """No heartbeat: the source integration keeps its own connection."""
        return None

    async def keep_alive(self) -> None:
        """Nothing to keep alive."""

    async def close(self) -> None:
        """Nothing to release: the listeners end with the config entry."""


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
