"""What the integration's setup calls for a charger made of entities."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import CONF_DRIVER
from .device import EntityChargerDevice
from .mapping import CONF_MAPPING, DRIVER_ENTITIES, EntityMapping


def is_entity_charger(entry: ConfigEntry[Any]) -> bool:
    """Whether the entry is a charger of another integration."""
    return entry.data.get(CONF_DRIVER) == DRIVER_ENTITIES


def create_entity_device(hass: HomeAssistant, entry: ConfigEntry[Any]) -> EntityChargerDevice:
    """The device of an entity charger's entry."""
    return EntityChargerDevice(hass, EntityMapping.from_dict(entry.data[CONF_MAPPING]))
