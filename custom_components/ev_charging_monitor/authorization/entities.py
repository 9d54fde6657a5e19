"""A charger's authorization entities: authorise/deauthorise buttons and who is charging.

They exist only on chargers under authorization ("required"); a change of mode reloads the
charger, which adds or removes them.

No entity shows a card's UID; the person and vehicle are names the administrator gave.
"""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.typing import StateType

from ..const import DOMAIN
from ..coordinator import EVChargingConfigEntry
from ..entity import EVChargingEntity, device_key
from .charger import ChargerAuthorization
from .manager import AUTHORIZATION
from .model import AuthorizationMode

AUTHORIZE = ButtonEntityDescription(key="authorize", translation_key="authorize")
DEAUTHORIZE = ButtonEntityDescription(key="deauthorize", translation_key="deauthorize")
STATUS_OPTIONS = ["free", "locked", "authorized"]
STATUS = SensorEntityDescription(
    key="authorization_status",
    translation_key="authorization_status",
    device_class=SensorDeviceClass.ENUM,
    options=STATUS_OPTIONS,
    entity_category=EntityCategory.DIAGNOSTIC,
)
PERSON = SensorEntityDescription(key="authorized_person", translation_key="authorized_person")
VEHICLE = SensorEntityDescription(key="authorized_vehicle", translation_key="authorized_vehicle")
ENTITIES: tuple[tuple[str, EntityDescription], ...] = (
    ("button", AUTHORIZE),
    ("button", DEAUTHORIZE),
    ("sensor", STATUS),
    ("sensor", PERSON),
    ("sensor", VEHICLE),
)


def _charger(hass: HomeAssistant, entry: EVChargingConfigEntry) -> ChargerAuthorization | None:
    """The charger's authorization, if it is under authorization (held until accepted).

    Elsewhere the entities would mean nothing; ones left from an earlier setup are removed.
    """
    charger = hass.data[AUTHORIZATION].chargers.get(entry.entry_id)
    if charger is not None and charger.mode is AuthorizationMode.REQUIRED:
        return charger
    registry = er.async_get(hass)
    for domain, description in ENTITIES:
        unique_id = f"{device_key(entry)}_{description.key}"
        if (entity_id := registry.async_get_entity_id(domain, DOMAIN, unique_id)) is not None:
            registry.async_remove(entity_id)
            # The unload left an "unavailable, restored" state behind.
            hass.states.async_remove(entity_id)
    return None


def authorization_buttons(hass: HomeAssistant, entry: EVChargingConfigEntry) -> list[ButtonEntity]:
    """The buttons of a charger under authorization."""
    if (charger := _charger(hass, entry)) is None:
        return []
    return [
        AuthorizeButton(entry=entry, description=description, charger=charger)
        for description in (AUTHORIZE, DEAUTHORIZE)
    ]


def authorization_sensors(hass: HomeAssistant, entry: EVChargingConfigEntry) -> list[SensorEntity]:
    """The sensors of a charger under authorization."""
    if (charger := _charger(hass, entry)) is None:
        return []
    return [
        AuthorizationSensor(entry=entry, description=description, charger=charger)
        for description in (STATUS, PERSON, VEHICLE)
    ]


class _ChargerEntity(EVChargingEntity):
    def __init__(
        self,
        *,
        entry: EVChargingConfigEntry,
        description: ButtonEntityDescription | SensorEntityDescription,
        charger: ChargerAuthorization,
    ) -> None:
        super().__init__(entry=entry, description=description)
        self.charger = charger


class AuthorizeButton(_ChargerEntity, ButtonEntity):
    """Authorise as the user who presses, or lock again."""

    async def async_press(self) -> None:
        """The pressing user's credential decides (from the call's context)."""
        if self.entity_description.key == DEAUTHORIZE.key:
            await self.charger.async_deauthorize()
            return
        user_id = None if self._context is None else self._context.user_id
        await self.hass.data[AUTHORIZATION].async_authorize_user(self.charger, user_id)


class AuthorizationSensor(_ChargerEntity, SensorEntity):
    """Lock status, or who is authorised with which vehicle."""

    @property
    def native_value(self) -> StateType:
        """From the charger's authorization state."""
        key = self.entity_description.key
        state = self.charger.state
        if key == STATUS.key:
            if self.charger.locked:
                return "locked"
            return "authorized" if state.authorized else "free"
        attribution = state.attribution or {}
        if key == PERSON.key:
            return attribution.get("person")
        return attribution.get("vehicle")

    @property
    def extra_state_attributes(self) -> dict[str, str | None] | None:
        """How the person was identified (never a UID)."""
        if self.entity_description.key != PERSON.key:
            return None
        attribution = self.charger.state.attribution or {}
        return {"method": attribution.get("method"), "status": attribution.get("status")}
