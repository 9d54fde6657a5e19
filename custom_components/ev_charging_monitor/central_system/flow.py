"""Config-flow steps: the central system's port, and a charger that connected by itself."""

from __future__ import annotations

import ssl
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_PASSWORD, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..authorization.subentries import CONF_ROLE
from ..const import CONF_DRIVER
from .const import (
    CONF_CERTIFICATE,
    CONF_CHARGE_POINT_ID,
    CONF_FIRMWARE,
    CONF_METER_SERIAL,
    CONF_METER_TYPE,
    CONF_MODEL,
    CONF_PRIVATE_KEY,
    CONF_SERIAL,
    CONF_VENDOR,
    DEFAULT_PORT,
    DRIVER_OCPP,
    ROLE_CENTRAL_SYSTEM,
)
from .tls import tls_context

CENTRAL_SYSTEM_TITLE = "OCPP central system"


def ocpp_unique_id(charge_point_id: str) -> str:
    """One entry per charge point id."""
    return f"ocpp_{charge_point_id}"


class CentralSystemSteps(ConfigFlow):
    """The steps; the integration's config flow inherits them."""

    _ocpp: dict[str, Any] | None = None

    async def async_step_central_system(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The port chargers connect to."""
        await self.async_set_unique_id(ROLE_CENTRAL_SYSTEM)
        self._abort_if_unique_id_configured()
        errors: dict[str, str] = {}
        if user_input is not None:
            data: dict[str, Any] = {CONF_ROLE: ROLE_CENTRAL_SYSTEM}
            data[CONF_PORT] = int(user_input[CONF_PORT])
            certificate = user_input.get(CONF_CERTIFICATE) or None
            key = user_input.get(CONF_PRIVATE_KEY) or None
            if (certificate is None) != (key is None):
                errors["base"] = "ocpp_certificate_and_key"
            elif certificate is not None and key is not None:
                try:
                    await self.hass.async_add_executor_job(tls_context, certificate, key)
                except (OSError, ssl.SSLError):
                    errors["base"] = "ocpp_certificate_invalid"
                data[CONF_CERTIFICATE], data[CONF_PRIVATE_KEY] = certificate, key
            if not errors:
                return self.async_create_entry(title=CENTRAL_SYSTEM_TITLE, data=data)
        return self.async_show_form(
            step_id="central_system",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_PORT, default=DEFAULT_PORT): NumberSelector(
                        NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
                    ),
                    vol.Optional(CONF_CERTIFICATE): TextSelector(),
                    vol.Optional(CONF_PRIVATE_KEY): TextSelector(),
                }
            ),
            errors=errors,
        )

    async def async_ocpp_discovered(self, discovery_info: dict[str, Any]) -> ConfigFlowResult:
        """A charger unknown to Home Assistant connected and booted (integration discovery)."""
        charge_point_id = str(discovery_info[CONF_CHARGE_POINT_ID])
        await self.async_set_unique_id(ocpp_unique_id(charge_point_id))
        self._abort_if_unique_id_configured()
        self._ocpp = dict(discovery_info)
        self.context["title_placeholders"] = {
            "name": f"{discovery_info[CONF_VENDOR]} {discovery_info[CONF_MODEL]}"
        }
        return await self.async_step_ocpp_confirm()

    async def async_step_ocpp_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Accept the charger, with the password it sends (security profile 1)."""
        found = self._ocpp
        assert found is not None
        if user_input is not None:
            return self.async_create_entry(
                title=f"{found[CONF_VENDOR]} {found[CONF_MODEL]}",
                data={
                    CONF_DRIVER: DRIVER_OCPP,
                    CONF_CHARGE_POINT_ID: found[CONF_CHARGE_POINT_ID],
                    CONF_VENDOR: found[CONF_VENDOR],
                    CONF_MODEL: found[CONF_MODEL],
                    CONF_SERIAL: found.get(CONF_SERIAL),
                    CONF_FIRMWARE: found.get(CONF_FIRMWARE),
                    CONF_METER_SERIAL: found.get(CONF_METER_SERIAL),
                    CONF_METER_TYPE: found.get(CONF_METER_TYPE),
                    CONF_PASSWORD: user_input.get(CONF_PASSWORD) or None,
                },
            )
        return self.async_show_form(
            step_id="ocpp_confirm",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_PASSWORD): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            description_placeholders={
                "vendor": str(found[CONF_VENDOR]),
                "model": str(found[CONF_MODEL]),
                "serial": str(found.get(CONF_SERIAL) or "-"),
                "firmware": str(found.get(CONF_FIRMWARE) or "-"),
                "id": str(found[CONF_CHARGE_POINT_ID]),
            },
        )
