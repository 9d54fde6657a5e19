"""Which entity of the other integration stands for what, stored in the config entry.

Home Assistant-free: plain data and the translation of the source's state words into
IEC 61851 states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from ..devices import ChargerState

DRIVER_ENTITIES: Final = "entities"
CONF_MAPPING: Final = "mapping"

# A state word's meaning: an IEC letter, "plug" (ask the plug sensor: B if a vehicle is
# connected, else A) or "none" (no data, as unknown).
PLUG: Final = "plug"
NO_DATA: Final = "none"
MEANINGS: Final = (*(state.value for state in ChargerState), PLUG, NO_DATA)
# States every Home Assistant entity can have that mean "no data", never "no vehicle".
NO_VALUE_STATES: Final = frozenset({"unknown", "unavailable", ""})

ENABLE_SWITCH: Final = "switch"
ENABLE_SELECT: Final = "select"


def normalize_word(word: str) -> str:
    """The form state words are compared in: case and surrounding blanks do not count."""
    return " ".join(word.split()).casefold()


@dataclass(frozen=True, kw_only=True)
class EntityMapping:
    """One charger of another integration, as the entities that describe it.

    At least one of `status` (a sensor or binary sensor whose words `states` maps) and
    `plug` (a binary sensor, on = vehicle connected) is set; `energy` always is.
    """

    status: str | None = None
    states: dict[str, str] = field(default_factory=dict)  # normalized word -> meaning
    plug: str | None = None
    charging: str | None = None  # a binary sensor, on = energy flows
    power: str | None = None
    energy: str = ""
    session_energy: str | None = None
    currents: tuple[str, ...] = ()  # L1, L2, L3 (as many as mapped)
    rfid: str | None = None
    rfid_idle: tuple[str, ...] = ()  # words of the RFID entity meaning "no card"
    enable: str | None = None  # a switch, or a select with the two options below
    enable_on: str | None = None
    enable_off: str | None = None
    limit: str | None = None  # a number entity in A
    limit_action: str | None = None  # "domain.service" that takes the current
    limit_field: str = "current"  # the action's field for the current in A
    limit_data: dict[str, Any] = field(default_factory=dict)  # the action's other fields
    device_id: str | None = None  # the source's device (for actions that target it)
    preset: str | None = None

    @property
    def entities(self) -> tuple[str, ...]:
        """Every mapped entity id."""
        singles = (
            self.status,
            self.plug,
            self.charging,
            self.power,
            self.energy,
            self.session_energy,
            self.rfid,
            self.enable,
            self.limit,
        )
        return tuple(dict.fromkeys(e for e in (*singles, *self.currents) if e))

    @property
    def enable_kind(self) -> str | None:
        """How charging is allowed and stopped: a switch, a select, or not at all."""
        if self.enable is None:
            return None
        domain = self.enable.partition(".")[0]
        return ENABLE_SELECT if domain in ("select", "input_select") else ENABLE_SWITCH

    @property
    def can_enable(self) -> bool:
        """Whether charging can be stopped and allowed."""
        if self.enable_kind == ENABLE_SELECT:
            return bool(self.enable_on and self.enable_off)
        return self.enable_kind == ENABLE_SWITCH

    @property
    def can_set_current(self) -> bool:
        """Whether a current limit can be set."""
        return self.limit is not None or self.limit_action is not None

    @property
    def controllable(self) -> bool:
        """Whether authorization can hold this charger."""
        return self.can_enable or self.can_set_current

    def meaning(self, word: str) -> str | None:
        """What the status entity's `word` means; None when the mapping does not know it."""
        return self.states.get(normalize_word(word))

    def renamed(self, old: str, new: str) -> EntityMapping:
        """The same mapping with entity `old` now called `new`."""
        changes: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == old:
                changes[item.name] = new
        if old in self.currents:
            changes["currents"] = tuple(new if e == old else e for e in self.currents)
        return EntityMapping(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        """Config-entry form (JSON-compatible)."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityMapping:
        """Read the config-entry form (unknown keys are ignored)."""
        names = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        for key in ("currents", "rfid_idle"):
            if key in values:
                values[key] = tuple(values[key] or ())
        if "states" in values:
            values["states"] = {normalize_word(k): v for k, v in dict(values["states"]).items()}
        return cls(**values)


def letter(meaning: str | None, plugged: bool | None) -> ChargerState | None:
    """The IEC state a word's meaning stands for (`plugged`: the plug sensor, if any)."""
    if meaning is None or meaning == NO_DATA:
        return None
    if meaning == PLUG:
        if plugged is None:
            return None
        return ChargerState.B if plugged else ChargerState.A
    return ChargerState(meaning)
