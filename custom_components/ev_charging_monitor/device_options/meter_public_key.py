"""The public key of an OCPP charger's meter, for the values it signs."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig

from ..central_system.const import CONF_METER_PUBLIC_KEY
from ..central_system.device import OcppDevice
from ..central_system.signed import PublicKeyError, key_fingerprint, normalize_public_key
from ..const import LOGGER
from .base import DeviceOptionsBase


class MeterPublicKeySteps(DeviceOptionsBase):
    """The step of the OCPP charger's menu entry."""

    async def async_step_meter_public_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The public key of the charger's meter, for its signed values (empty: the charger's)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            text = str(user_input.get(CONF_METER_PUBLIC_KEY) or "").strip()
            if not text:
                LOGGER.info(
                    "%s: signed values use the charger's key again", self.config_entry.title
                )
                return self._save(**{CONF_METER_PUBLIC_KEY: None})
            try:
                key = normalize_public_key(text)
            except PublicKeyError:
                errors[CONF_METER_PUBLIC_KEY] = "meter_public_key_invalid"
            else:
                if key != self.config_entry.options.get(CONF_METER_PUBLIC_KEY):
                    LOGGER.info(
                        "%s: meter public key %s entered",
                        self.config_entry.title,
                        key_fingerprint(key),
                    )
                return self._save(**{CONF_METER_PUBLIC_KEY: key})
        charger_key = None
        if self.config_entry.state is ConfigEntryState.LOADED:
            device = self.config_entry.runtime_data.device
            if isinstance(inner := getattr(device, "inner", device), OcppDevice):
                charger_key = inner.charger.signed.keys.charger
        return self.async_show_form(
            step_id="meter_public_key",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Optional(CONF_METER_PUBLIC_KEY): TextSelector(
                            TextSelectorConfig(multiline=True)
                        )
                    }
                ),
                user_input or self.config_entry.options,
            ),
            description_placeholders={"charger_key": charger_key or "-"},
            errors=errors,
        )
