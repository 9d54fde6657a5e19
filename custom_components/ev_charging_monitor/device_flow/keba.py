"""A KEBA P30: found by its UDP interface, then set up over Modbus TCP."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST

from ..const import CONF_DRIVER
from ..devices import DeviceConnectionError
from ..devices.discovery_signatures import probe_keba_udp
from .identify import DeviceFlowBase
from .schema import address_fields, clean_address

# The KEBA's legacy UDP interface (kept a module attribute so a test can aim it at a
# simulator on other ports: a real box always answers to port 7090).
KEBA_PROBE: dict[str, Any] = {}
KEBA_DRIVER = "keba_p30"


class KebaSteps(DeviceFlowBase):
    """The step of the setup menu's KEBA entry."""

    async def async_step_keba(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A KEBA P30: found by its UDP interface, then set up over Modbus TCP."""
        errors: dict[str, str] = {}
        placeholders = {"model": "", "serial": ""}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            try:
                found = await probe_keba_udp(host, **KEBA_PROBE)
            except DeviceConnectionError:
                errors["base"] = "keba_port_busy"
            else:
                if found is None:
                    errors["base"] = "keba_not_found"
                else:
                    placeholders = {"model": found.model, "serial": found.serial or ""}
                    data = {**clean_address(user_input), CONF_DRIVER: KEBA_DRIVER}
                    errors, result = await self._validate(data)
                    if errors.get("base") == "cannot_connect":
                        errors["base"] = "keba_modbus_off"
                    if not errors:
                        return await self._create(data, *result)
        return self.async_show_form(
            step_id="keba",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(address_fields(unit=False)), user_input
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
