"""Service actions: authorise or deauthorise a charger, resolve an unknown card.

`authorize` takes the Home Assistant user from the call's context: that user's credential
is what is decided on. `resolve_unknown_card` is for administrators only.
"""

from __future__ import annotations

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service

from ..const import DOMAIN
from .charger import ChargerAuthorization
from .manager import AUTHORIZATION
from .model import ResolveAction

SERVICE_AUTHORIZE = "authorize"
SERVICE_DEAUTHORIZE = "deauthorize"
SERVICE_RESOLVE_UNKNOWN_CARD = "resolve_unknown_card"
ATTR_CARD_ID = "card_id"
ATTR_ACTION = "action"
ATTR_PERSON_ID = "person_id"
ATTR_PERSON_NAME = "person_name"
ATTR_LABEL = "label"

_DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
_RESOLVE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CARD_ID): cv.string,
        vol.Required(ATTR_ACTION): vol.In(ResolveAction.ALL),
        vol.Optional(ATTR_PERSON_ID): cv.string,
        vol.Optional(ATTR_PERSON_NAME): cv.string,
        vol.Optional(ATTR_LABEL, default=""): cv.string,
    }
)


def charger_for_device(hass: HomeAssistant, device_id: str) -> ChargerAuthorization:
    """The loaded charger behind a device of ours; a translated error otherwise."""
    device = dr.async_get(hass).async_get(device_id)
    chargers = hass.data[AUTHORIZATION].chargers
    for entry_id in (device.config_entry_id,) if device else ():
        if (charger := chargers.get(entry_id)) is not None:
            return charger
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_device",
        translation_placeholders={"device_id": device_id},
    )


async def _authorize(call: ServiceCall) -> None:
    hass = call.hass
    charger = charger_for_device(hass, call.data[ATTR_DEVICE_ID])
    await hass.data[AUTHORIZATION].async_authorize_user(charger, call.context.user_id)


async def _deauthorize(call: ServiceCall) -> None:
    await charger_for_device(call.hass, call.data[ATTR_DEVICE_ID]).async_deauthorize()


async def _resolve(call: ServiceCall) -> None:
    await call.hass.data[AUTHORIZATION].async_resolve(
        call.data[ATTR_CARD_ID],
        call.data[ATTR_ACTION],
        person_id=call.data.get(ATTR_PERSON_ID),
        person_name=call.data.get(ATTR_PERSON_NAME),
        label=call.data[ATTR_LABEL],
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(DOMAIN, SERVICE_AUTHORIZE, _authorize, schema=_DEVICE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_DEAUTHORIZE, _deauthorize, schema=_DEVICE_SCHEMA)
    async_register_admin_service(
        hass, DOMAIN, SERVICE_RESOLVE_UNKNOWN_CARD, _resolve, schema=_RESOLVE_SCHEMA
    )
