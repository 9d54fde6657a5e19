"""Manual setup: the address typed in, and a shipped driver or a profile the user pastes."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig

from ..const import CONF_DRIVER, CONF_PROFILE_YAML, CONF_UNIT, DRIVER_AUTO, DRIVER_CUSTOM, LOGGER
from ..devices import DeviceConnectionError, DeviceError, Identity, InvalidProfileError
from ..devices.errors import ProfileReadError
from ..devices.factory import create_device
from ..devices.modbus.device import ModbusDevice
from ..devices.modbus.profile import MAX_PROFILE_BYTES, ModbusProfile, ProfileTooLargeError
from ..devices.modbus.trial import trial_read
from ..profiles import (
    NO_DETAIL,
    PROFILE_DOCS_URL,
    async_load_shipped_profiles,
    profile_error,
    read_error,
)
from .identify import DeviceFlowBase
from .schema import address_fields, clean_address, driver_selector


class ManualSteps(DeviceFlowBase):
    """The address, then detection, a chosen driver or the user's own profile."""

    _pending: dict[str, Any] | None = None  # the address, while a profile is asked for
    # A user's profile that read the device: entry data, driver id, identity.
    _profile_entry: tuple[dict[str, Any], str, Identity] | None = None

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Enter the device's address."""
        await async_load_shipped_profiles(self.hass)  # the device types to choose from
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**clean_address(user_input), CONF_DRIVER: user_input[CONF_DRIVER]}
            if data[CONF_DRIVER] == DRIVER_CUSTOM:
                self._pending = data
                return await self.async_step_custom_profile()
            errors, result = await self._validate(data)
            if not errors:
                return await self._create(data, *result)
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        **address_fields(unit=True),
                        vol.Required(CONF_DRIVER, default=DRIVER_AUTO): driver_selector(),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_custom_profile(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Paste a profile for a device that is not shipped; it is tried on the device."""
        errors: dict[str, str] = {}
        placeholders = {
            "max_kb": str(MAX_PROFILE_BYTES // 1024),
            "size_kb": "",
            "docs_url": PROFILE_DOCS_URL,
            **NO_DETAIL,
        }
        if user_input is not None:
            assert self._pending is not None
            data = {**self._pending, CONF_PROFILE_YAML: user_input[CONF_PROFILE_YAML]}
            try:
                profile = await self._user_profile(user_input[CONF_PROFILE_YAML])
            except ProfileTooLargeError as err:
                errors[CONF_PROFILE_YAML] = "profile_too_large"
                placeholders["size_kb"] = str(-(-err.size // 1024))
            except InvalidProfileError as err:
                errors[CONF_PROFILE_YAML], detail = profile_error(err)
                placeholders |= detail
            else:
                error, detail, identity = await self._try_profile(data, profile)
                if error is None:
                    assert identity is not None
                    self._profile_entry = (data, profile.id, identity)
                    if unknown := profile.unknown_values():
                        LOGGER.warning(
                            "Profile %s reads values nothing uses: %s", profile.id, unknown
                        )
                        return await self.async_step_custom_profile_unused()
                    return await self.async_step_custom_profile_add()
                errors[error[0]] = error[1]
                placeholders |= detail
        suggested = user_input or (
            {CONF_PROFILE_YAML: self._profile[0]} if self._profile is not None else None
        )
        return self.async_show_form(
            step_id="custom_profile",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_PROFILE_YAML): TextSelector(
                            TextSelectorConfig(multiline=True)
                        )
                    }
                ),
                suggested,
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _try_profile(
        self, data: dict[str, Any], profile: ModbusProfile
    ) -> tuple[tuple[str, str] | None, dict[str, str], Identity | None]:
        """Read the device once with the user's profile: (field, error key), detail, identity.

        A register the device refuses is named in the error, not reported as a failed
        connection.
        """
        device = create_device(
            profile.id,
            data[CONF_HOST],
            port=data.get(CONF_PORT),
            unit=data.get(CONF_UNIT),
            profile=profile,
        )
        assert isinstance(device, ModbusDevice)
        try:
            identity, _reading = await trial_read(device)
        except ProfileReadError as err:
            key, detail = read_error(err)
            return (CONF_PROFILE_YAML, key), detail, None
        except DeviceConnectionError:
            return ("base", "cannot_connect"), {}, None
        except DeviceError as err:
            # Connected, but no single register to blame (e.g. no SunSpec model found).
            return (CONF_PROFILE_YAML, "profile_read_failed"), {"detail": str(err)}, None
        except Exception:
            LOGGER.exception("Unexpected error while trying profile %s", profile.id)
            return ("base", "unknown"), {}, None
        finally:
            await device.close()
        return None, {}, identity

    async def async_step_custom_profile_unused(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Warn of values no entity shows (a misspelt name?): fix the profile or add anyway."""
        assert self._profile is not None
        return self.async_show_menu(
            step_id="custom_profile_unused",
            menu_options=["custom_profile", "custom_profile_add"],
            description_placeholders={"names": ", ".join(self._profile[1].unknown_values())},
        )

    async def async_step_custom_profile_add(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the device the user's profile has read."""
        assert self._profile_entry is not None
        data, driver, identity = self._profile_entry
        return await self._create(data, driver, identity, data.get(CONF_PORT))
