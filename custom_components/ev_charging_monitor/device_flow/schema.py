"""What the device steps' forms share: the address fields, the driver list, the name shown."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ..const import CONF_UNIT, DRIVER_AUTO, DRIVER_CUSTOM
from ..devices import Identity
from ..devices.factory import driver_ids

_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))
_UNIT = NumberSelector(NumberSelectorConfig(min=0, max=255, mode=NumberSelectorMode.BOX))


def address_fields(*, unit: bool) -> dict[vol.Marker, Any]:
    """Host and port, and the Modbus unit id where the device may have one."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_HOST): TextSelector(TextSelectorConfig(autocomplete="off")),
        vol.Optional(CONF_PORT): _PORT,
    }
    if unit:
        fields[vol.Optional(CONF_UNIT)] = _UNIT
    return fields


def clean_address(user_input: dict[str, Any]) -> dict[str, Any]:
    """The address as entry data: no stray blanks, numbers as integers."""
    data = {CONF_HOST: user_input[CONF_HOST].strip()}
    for key in (CONF_PORT, CONF_UNIT):
        if user_input.get(key) is not None:
            data[key] = int(user_input[key])
    return data


def driver_selector() -> SelectSelector:
    """Auto-detection, the shipped drivers by name, and the user's own profile."""
    options = [SelectOptionDict(value=DRIVER_AUTO, label=DRIVER_AUTO)]
    options += [
        SelectOptionDict(value=driver, label=name)
        for driver, name in sorted(driver_ids().items(), key=lambda item: item[1])
    ]
    options.append(SelectOptionDict(value=DRIVER_CUSTOM, label=DRIVER_CUSTOM))
    return SelectSelector(
        SelectSelectorConfig(
            options=options,
            mode=SelectSelectorMode.DROPDOWN,
            translation_key="driver",
        )
    )


def device_name(identity: Identity) -> str:
    """The name an entry and a discovery card show."""
    return f"{identity.manufacturer} {identity.model}"
