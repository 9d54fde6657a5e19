"""A network device's new address; the device found there must be the same one."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST

from ..const import CONF_DRIVER
from ..coordinator import EVChargingConfigEntry
from .identify import DeviceFlowBase
from .schema import address_fields, clean_address


def _address_based(entry: EVChargingConfigEntry) -> bool:
    """Whether the entry has no unique id, or one made from its address by earlier versions."""
    unique_id = entry.unique_id
    return unique_id is None or unique_id.startswith(f"{entry.data.get(CONF_DRIVER)}_")


class ReconfigureSteps(DeviceFlowBase):
    """The reconfigure step of a Modbus or HTTP device."""

    async def async_reconfigure_device(
        self, entry: EVChargingConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Change the address of the same device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **clean_address(user_input)}
            errors, result = await self._validate(data)
            if not errors:
                _driver, identity, _port = result
                # An entry whose id came from the device (serial or MAC) must find the same
                # device; one without, or with an address-based id from before, keeps its own.
                new_id = await self._device_id(data[CONF_HOST], identity)
                if new_id is not None and not _address_based(entry):
                    await self.async_set_unique_id(new_id)
                    self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(address_fields(unit=True)), user_input or entry.data
            ),
            errors=errors,
        )
