"""Where a charger's session energy comes from: its own meter, a meter entry, or a sensor.

Stored in the charger entry's options. The session tracker calls `billing_energy_source`
to learn the source and `async_read_energy_wh` for the register value at a moment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, UnitOfEnergy
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN
from .session.plausibility import energy_register

if TYPE_CHECKING:
    # The coordinator imports the session manager, which imports this module.
    from .coordinator import EVChargingConfigEntry

CONF_ENERGY_SOURCE: Final = "energy_source"
CONF_ENERGY_METER_ENTRY: Final = "energy_meter_entry"
CONF_ENERGY_SENSOR: Final = "energy_sensor"


class EnergySourceKind(StrEnum):
    """The kinds of energy source a charger's sessions can be billed from."""

    DEVICE = "device"  # the charger's own energy register
    METER_ENTRY = "meter_entry"  # a meter set up in this integration
    SENSOR = "sensor"  # any Home Assistant energy sensor (e.g. a MID meter)


@dataclass(frozen=True, kw_only=True)
class EnergySource:
    """One charger's billing energy source, as configured."""

    kind: EnergySourceKind
    entry_id: str  # the entry that holds the register (the charger itself for DEVICE)
    entity_id: str | None = None  # only for SENSOR

    @property
    def external(self) -> bool:
        """Whether the energy comes from a meter other than the charger's own."""
        return self.kind is not EnergySourceKind.DEVICE


@callback
def billing_energy_source(hass: HomeAssistant, entry: EVChargingConfigEntry) -> EnergySource:
    """The energy source configured for `entry` (its own meter unless options say else)."""
    options = entry.options
    kind = EnergySourceKind(options.get(CONF_ENERGY_SOURCE, EnergySourceKind.DEVICE))
    if kind is EnergySourceKind.METER_ENTRY:
        return EnergySource(kind=kind, entry_id=options[CONF_ENERGY_METER_ENTRY])
    if kind is EnergySourceKind.SENSOR:
        return EnergySource(
            kind=kind, entry_id=entry.entry_id, entity_id=options[CONF_ENERGY_SENSOR]
        )
    return EnergySource(kind=kind, entry_id=entry.entry_id)


# Decimal factors to Wh: a kWh state such as 1234.567 becomes exactly 1234567 Wh (a float
# product would carry noise into the session's register difference).
_WH_FACTORS: Final[dict[str | None, Decimal]] = {
    UnitOfEnergy.WATT_HOUR: Decimal(1),
    UnitOfEnergy.KILO_WATT_HOUR: Decimal(1000),
    UnitOfEnergy.MEGA_WATT_HOUR: Decimal(1_000_000),
}


def state_energy_wh(state: State) -> float | None:
    """An energy state in Wh; None unless it is a finite number with an energy unit."""
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    try:
        number = Decimal(state.state)
        if (factor := _WH_FACTORS.get(unit)) is not None:
            wh = float(number * factor)
        elif unit in EnergyConverter.VALID_UNITS:
            wh = EnergyConverter.convert(float(number), unit, UnitOfEnergy.WATT_HOUR)
        else:
            return None
    except ArithmeticError:  # not a number, or beyond Decimal's range
        return None
    return wh if math.isfinite(wh) else None


@callback
def async_read_energy_wh(hass: HomeAssistant, source: EnergySource) -> float | None:
    """The source's energy register now, in Wh; None when it is unavailable or unknown."""
    if source.kind is EnergySourceKind.SENSOR:
        assert source.entity_id is not None
        state = hass.states.get(source.entity_id)
        if state is None or state.attributes.get(ATTR_DEVICE_CLASS) != SensorDeviceClass.ENERGY:
            return None
        if (value := state_energy_wh(state)) is None:
            return None
        # Negative and absurd values are numbers but no register.
        register = energy_register(value)
        return None if register is None else float(register)
    entry: EVChargingConfigEntry | None = hass.config_entries.async_get_entry(source.entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    live = entry.runtime_data.live
    if not live.last_update_success or live.data is None:
        return None
    return live.data.energy


@callback
def async_energy_resolution_wh(hass: HomeAssistant, source: EnergySource) -> Decimal | None:
    """The step of an external source's register in Wh (None: fine-grained or unknown)."""
    if source.kind is not EnergySourceKind.METER_ENTRY:
        return None
    entry: EVChargingConfigEntry | None = hass.config_entries.async_get_entry(source.entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    step = entry.runtime_data.device.capabilities.energy_resolution_wh
    return None if step is None else Decimal(str(step))
