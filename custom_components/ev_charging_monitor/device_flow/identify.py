"""Identify a device and claim it for an entry: where every way of adding one ends."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import format_mac

from ..const import CONF_DRIVER, CONF_PROFILE_YAML, CONF_UNIT, DRIVER_AUTO, LOGGER
from ..devices import DeviceError, Identity, InvalidProfileError, UnsupportedDeviceError
from ..devices.discovery import detect
from ..devices.factory import create_device
from ..devices.modbus.profile import ModbusProfile, ProfileTooLargeError
from ..devices.neighbours import neighbour_mac
from ..identity import device_unique_id
from ..profiles import async_load_shipped_profiles, async_parse_user_profile
from .schema import device_name


class DeviceFlowBase(ConfigFlow):
    """Identify, validate, claim and create; the device steps inherit it."""

    _profile: tuple[str, ModbusProfile] | None = None  # the user's text, parsed

    async def _user_profile(self, text: str) -> ModbusProfile:
        """The user's profile, parsed off the event loop once per text.

        The size limit is for new profiles: one stored before it existed still reconfigures.
        """
        if self._profile is None or self._profile[0] != text:
            limit = self.source != SOURCE_RECONFIGURE
            self._profile = (text, await async_parse_user_profile(self.hass, text, limit=limit))
        return self._profile[1]

    async def _identify(self, data: dict[str, Any]) -> tuple[str, Identity, int | None]:
        """Return driver, identity and port of the device described by `data`."""
        await async_load_shipped_profiles(self.hass)
        driver = data[CONF_DRIVER]
        if driver == DRIVER_AUTO:
            found = await detect(
                data[CONF_HOST],
                async_get_clientsession(self.hass),
                port=data.get(CONF_PORT),
                unit=data.get(CONF_UNIT),
            )
            return found.driver, found.identity, found.port
        profile = None
        if (text := data.get(CONF_PROFILE_YAML)) is not None:
            profile = await self._user_profile(text)
        device = create_device(
            driver,
            data[CONF_HOST],
            port=data.get(CONF_PORT),
            unit=data.get(CONF_UNIT),
            profile=profile,
            session=async_get_clientsession(self.hass),
        )
        try:
            identity = await device.identify()
            await device.read()
        finally:
            await device.close()
        return driver, identity, data.get(CONF_PORT)

    async def _validate(self, data: dict[str, Any]) -> tuple[dict[str, str], Any]:
        """Errors for the form, or none and what `_identify` found."""
        errors: dict[str, str] = {}
        try:
            return errors, await self._identify(data)
        except ProfileTooLargeError:
            errors[CONF_PROFILE_YAML] = "profile_too_large"
        except InvalidProfileError:
            errors[CONF_PROFILE_YAML] = "invalid_profile"
        except UnsupportedDeviceError:
            errors["base"] = "unsupported_device"
        except DeviceError:
            errors["base"] = "cannot_connect"
        except Exception:
            LOGGER.exception("Unexpected error while identifying %s", data.get(CONF_HOST))
            errors["base"] = "unknown"
        return errors, None

    async def _device_id(self, host: str, identity: Identity) -> str | None:
        """The device's serial or MAC (from the neighbour table once it has answered)."""
        if (found := device_unique_id(identity)) is not None:
            return found
        mac = await self.hass.async_add_executor_job(neighbour_mac, host)
        return None if mac is None else format_mac(mac)

    async def _claim(self, host: str, driver: str, port: int | None, identity: Identity) -> None:
        """Take the device's identity as unique id; abort when it is configured already.

        A device without serial or MAC gets no unique id (a repair says so after setup);
        the same driver at the same address still counts as configured.
        """
        if (unique_id := await self._device_id(host, identity)) is not None:
            await self.async_set_unique_id(unique_id)
            self._abort_if_unique_id_configured(updates={CONF_HOST: host})
            return
        match: dict[str, Any] = {CONF_HOST: host, CONF_DRIVER: driver}
        if port is not None:
            match[CONF_PORT] = port
        self._async_abort_entries_match(match)

    async def _create(
        self, data: dict[str, Any], driver: str, identity: Identity, port: int | None
    ) -> ConfigFlowResult:
        """Claim the device and add its entry."""
        await self._claim(data[CONF_HOST], driver, port, identity)
        entry_data = {**data, CONF_DRIVER: driver}
        if port is not None:
            entry_data[CONF_PORT] = port
        return self.async_create_entry(title=device_name(identity), data=entry_data)
