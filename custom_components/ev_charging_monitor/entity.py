"""The base entity every platform of the integration builds on."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import EVChargingConfigEntry, LiveCoordinator


class EVChargingEntity(CoordinatorEntity[LiveCoordinator]):
    """An entity of one charger or meter, fed by its live coordinator."""

    _attr_has_entity_name = True

    def __init__(self, *, entry: EVChargingConfigEntry, description: EntityDescription) -> None:
        """Attach the entity to the entry's device."""
        super().__init__(entry.runtime_data.live)
        self.entity_description = description
        identity = entry.runtime_data.identity.data
        self._attr_unique_id = f"{entry.unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, str(entry.unique_id))},
            manufacturer=identity.manufacturer,
            model=identity.model,
            serial_number=identity.serial,
            sw_version=identity.firmware,
            name=entry.title,
        )
