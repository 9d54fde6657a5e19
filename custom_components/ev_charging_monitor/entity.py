"""The base entity every platform of the integration builds on."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import EVChargingConfigEntry, LiveCoordinator


def device_key(entry: EVChargingConfigEntry) -> str:
    """What the entry's device and entity ids build on: the unique id, else the entry id.

    A device that reports neither serial nor MAC has no unique id (see identity.py).
    """
    return entry.unique_id or entry.entry_id


class EVChargingEntity(CoordinatorEntity[LiveCoordinator]):
    """An entity of one charger or meter, fed by its live coordinator."""

    _attr_has_entity_name = True

    def __init__(self, *, entry: EVChargingConfigEntry, description: EntityDescription) -> None:
        """Attach the entity to the entry's device."""
        super().__init__(entry.runtime_data.live)
        self.entity_description = description
        identity = entry.runtime_data.identity.data
        key = device_key(entry)
        # No MAC connection: Home Assistant's own Shelly (or other) integration may list the
        # same MAC, and the registry would then merge the two devices into one.
        self._attr_unique_id = f"{key}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, key)},
            manufacturer=identity.manufacturer,
            model=identity.model,
            model_id=identity.model_id,
            serial_number=identity.serial,
            sw_version=identity.firmware,
            name=entry.title,
        )
