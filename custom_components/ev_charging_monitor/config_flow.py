"""Config flow: manual setup with auto-detection, discovery, network scan, reconfigure."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
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
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.typing import DiscoveryInfoType

from .authorization.flow import AuthorizationOptionsFlow, async_apply_setup, setup_schema
from .authorization.manager import async_get_manager
from .authorization.setup import CONF_ROLE, ROLE_AUTHORIZATION, is_authorization_entry
from .authorization.subentries import SUBENTRY_CARD, SUBENTRY_PERSON, SUBENTRY_VEHICLE
from .authorization.subentry_flow import (
    CardSubentryFlow,
    PersonSubentryFlow,
    VehicleSubentryFlow,
)
from .const import (
    CONF_DRIVER,
    CONF_PROFILE_YAML,
    CONF_UNIT,
    DOMAIN,
    DRIVER_AUTO,
    DRIVER_CUSTOM,
    LOGGER,
)
from .coordinator import EVChargingConfigEntry
from .devices import (
    DeviceConnectionError,
    DeviceError,
    Identity,
    InvalidProfileError,
    UnsupportedDeviceError,
)
from .devices.discovery import DetectedDevice, detect, scan_subnet
from .devices.factory import create_device, driver_ids
from .devices.modbus.profile import MAX_PROFILE_BYTES, ModbusProfile, ProfileTooLargeError
from .ledger_link.entry import (
    LEDGER_NAME,
    STANDALONE_ID,
    checked_ledger_url,
    is_ledger_entry,
    ledger_entry_data,
    standalone_ledger_data,
)
from .options_flow import EVChargingOptionsFlow
from .profiles import async_load_shipped_profiles, async_parse_user_profile

CONF_NETWORK = "network"
CONF_FOUND = "found"
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))
_UNIT = NumberSelector(NumberSelectorConfig(min=0, max=255, mode=NumberSelectorMode.BOX))


def _driver_selector() -> SelectSelector:
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


def _unique_id(driver: str, host: str, port: int | None, identity: Identity) -> str:
    # A few devices expose no serial over Modbus; their address is the best identity left.
    return identity.serial or f"{driver}_{host}_{port or ''}"


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    data = {CONF_HOST: user_input[CONF_HOST].strip()}
    for key in (CONF_PORT, CONF_UNIT):
        if user_input.get(key) is not None:
            data[key] = int(user_input[key])
    return data


class EVChargingConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a wallbox or an energy meter."""

    VERSION = 1
    MINOR_VERSION = 2  # 1.2: time-of-use periods name their days of the week

    def __init__(self) -> None:
        """Start with nothing found."""
        self._discovered: DetectedDevice | None = None
        self._pending: dict[str, Any] = {}
        self._found: list[DetectedDevice] = []
        self._profile: tuple[str, ModbusProfile] | None = None  # the user's text, parsed
        self._ledger: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EVChargingConfigEntry) -> OptionsFlow:
        """Options: the polling interval (and, later, tariff and authorization)."""
        if is_authorization_entry(config_entry):
            return AuthorizationOptionsFlow()
        return EVChargingOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: EVChargingConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """People, vehicles and cards are subentries of the Authorization entry."""
        if is_authorization_entry(config_entry):
            return {
                SUBENTRY_PERSON: PersonSubentryFlow,
                SUBENTRY_VEHICLE: VehicleSubentryFlow,
                SUBENTRY_CARD: CardSubentryFlow,
            }
        return {}

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: EVChargingConfigEntry) -> bool:
        """The ledger's entry has nothing to set."""
        return not is_ledger_entry(config_entry)

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
        errors: dict[str, str] = {}
        try:
            return errors, await self._identify(data)
        except ProfileTooLargeError:
            errors[CONF_PROFILE_YAML] = "profile_too_large"
        except InvalidProfileError:
            errors[CONF_PROFILE_YAML] = "invalid_profile"
        except UnsupportedDeviceError:
            errors["base"] = "unsupported_device"
        except DeviceConnectionError:
            errors["base"] = "cannot_connect"
        except DeviceError:
            errors["base"] = "cannot_connect"
        except Exception:
            LOGGER.exception("Unexpected error while identifying %s", data.get(CONF_HOST))
            errors["base"] = "unknown"
        return errors, None

    async def _create(
        self, data: dict[str, Any], driver: str, identity: Identity, port: int | None
    ) -> ConfigFlowResult:
        await self.async_set_unique_id(_unique_id(driver, data[CONF_HOST], port, identity))
        self._abort_if_unique_id_configured(updates={CONF_HOST: data[CONF_HOST]})
        entry_data = {**data, CONF_DRIVER: driver}
        if port is not None:
            entry_data[CONF_PORT] = port
        return self.async_create_entry(
            title=f"{identity.manufacturer} {identity.model}", data=entry_data
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, optional port and unit id, and auto-detection or a chosen profile."""
        return self.async_show_menu(
            step_id="user", menu_options=["manual", "scan", "authorization"]
        )

    async def async_step_authorization(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up authorization (people and cards), once per installation."""
        await self.async_set_unique_id(ROLE_AUTHORIZATION)
        self._abort_if_unique_id_configured()
        manager = await async_get_manager(self.hass)
        if user_input is not None:
            await async_apply_setup(manager, user_input)
            return self.async_create_entry(
                title="Authorization", data={CONF_ROLE: ROLE_AUTHORIZATION}
            )
        return self.async_show_form(step_id="authorization", data_schema=setup_schema(manager))

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Enter the device's address."""
        await async_load_shipped_profiles(self.hass)  # the device types to choose from
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**_clean(user_input), CONF_DRIVER: user_input[CONF_DRIVER]}
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
                        vol.Required(CONF_HOST): TextSelector(
                            TextSelectorConfig(autocomplete="off")
                        ),
                        vol.Optional(CONF_PORT): _PORT,
                        vol.Optional(CONF_UNIT): _UNIT,
                        vol.Required(CONF_DRIVER, default=DRIVER_AUTO): _driver_selector(),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_custom_profile(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Paste a profile for a device that is not shipped."""
        errors: dict[str, str] = {}
        placeholders = {"error": "", "max_kb": str(MAX_PROFILE_BYTES // 1024), "size_kb": ""}
        if user_input is not None:
            data = {**self._pending, CONF_PROFILE_YAML: user_input[CONF_PROFILE_YAML]}
            try:
                profile = await self._user_profile(user_input[CONF_PROFILE_YAML])
            except ProfileTooLargeError as err:
                errors[CONF_PROFILE_YAML] = "profile_too_large"
                placeholders["size_kb"] = str(-(-err.size // 1024))
            except InvalidProfileError as err:
                errors[CONF_PROFILE_YAML] = "invalid_profile"
                placeholders["error"] = str(err)
            else:
                errors, result = await self._validate(data)
                if not errors:
                    _driver, identity, port = result
                    return await self._create(data, profile.id, identity, port)
        return self.async_show_form(
            step_id="custom_profile",
            data_schema=vol.Schema(
                {vol.Required(CONF_PROFILE_YAML): TextSelector(TextSelectorConfig(multiline=True))}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_scan(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Search one /24 network for supported Modbus devices."""
        errors: dict[str, str] = {}
        if user_input is not None:
            await async_load_shipped_profiles(self.hass)
            try:
                found = await scan_subnet(user_input[CONF_NETWORK])
            except ValueError:
                errors[CONF_NETWORK] = "invalid_network"
            else:
                configured = {entry.unique_id for entry in self._async_current_entries()}
                self._found = [
                    device
                    for device in found
                    if _unique_id(device.driver, device.host, device.port, device.identity)
                    not in configured
                ]
                if not self._found:
                    return self.async_abort(reason="no_devices_found")
                return await self.async_step_scan_results()
        return self.async_show_form(
            step_id="scan",
            data_schema=vol.Schema(
                {vol.Required(CONF_NETWORK, default="192.168.1.0/24"): TextSelector()}
            ),
            errors=errors,
        )

    async def async_step_scan_results(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the devices the scan found."""
        if user_input is not None:
            device = self._found[int(user_input[CONF_FOUND])]
            data = {CONF_HOST: device.host, CONF_PORT: device.port}
            return await self._create(data, device.driver, device.identity, device.port)
        options = [
            SelectOptionDict(
                value=str(index),
                label=(
                    f"{device.identity.manufacturer} {device.identity.model} "
                    f"({device.host}:{device.port})"
                ),
            )
            for index, device in enumerate(self._found)
        ]
        return self.async_show_form(
            step_id="scan_results",
            data_schema=vol.Schema(
                {vol.Required(CONF_FOUND): SelectSelector(SelectSelectorConfig(options=options))}
            ),
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A device announced itself; identify it before asking the user."""
        host = discovery_info.host
        # HTTP services announce the port of the device's HTTP API; others say nothing
        # about the Modbus port, so detection tries the usual ones.
        port = (
            discovery_info.port
            if "_http." in discovery_info.type or "_shelly." in (discovery_info.type)
            else None
        )
        await async_load_shipped_profiles(self.hass)
        try:
            found = await detect(host, async_get_clientsession(self.hass), port=port)
        except DeviceError:
            return self.async_abort(reason="unsupported_device")
        await self.async_set_unique_id(_unique_id(found.driver, host, found.port, found.identity))
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        self._discovered = found
        self.context["title_placeholders"] = {
            "name": f"{found.identity.manufacturer} {found.identity.model}"
        }
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before adding a discovered device."""
        found = self._discovered
        assert found is not None
        if user_input is not None:
            return self.async_create_entry(
                title=f"{found.identity.manufacturer} {found.identity.model}",
                data={CONF_HOST: found.host, CONF_PORT: found.port, CONF_DRIVER: found.driver},
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={
                "name": f"{found.identity.manufacturer} {found.identity.model}",
                "host": found.host,
            },
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The ledger add-on announced itself through the Supervisor: offer to link it."""
        host = discovery_info.config.get(CONF_HOST)
        port = discovery_info.config.get(CONF_PORT)
        if (
            not isinstance(host, str)
            or not host
            or not isinstance(port, int)
            or isinstance(port, bool)
            or not 0 < port < 65536
        ):
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(discovery_info.slug)
        # The add-on may come back under another host name (reinstalled, renamed).
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
        self._ledger = ledger_entry_data(discovery_info.slug, host, port)
        self.context["title_placeholders"] = {"name": LEDGER_NAME}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before linking the ledger."""
        if user_input is not None:
            return self.async_create_entry(title=LEDGER_NAME, data=self._ledger)
        self._set_confirm_only()
        return self.async_show_form(step_id="hassio_confirm")

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """A standalone ledger announced its address: offer to link it."""
        text = discovery_info.get(CONF_URL)
        url = checked_ledger_url(text) if isinstance(text, str) else None
        if url is None:
            return self.async_abort(reason="invalid_ledger_url")
        await self.async_set_unique_id(STANDALONE_ID)
        self._abort_if_unique_id_configured(updates={CONF_URL: url})
        self._ledger = standalone_ledger_data(url)
        self.context["title_placeholders"] = {"name": LEDGER_NAME}
        return await self.async_step_ledger_confirm()

    async def async_step_ledger_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before linking the standalone ledger."""
        if user_input is not None:
            return self.async_create_entry(title=LEDGER_NAME, data=self._ledger)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="ledger_confirm", description_placeholders={"url": self._ledger[CONF_URL]}
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address of the same device."""
        entry = self._get_reconfigure_entry()
        if is_ledger_entry(entry):
            return self.async_abort(reason="ledger_not_reconfigurable")
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **_clean(user_input)}
            errors, result = await self._validate(data)
            if not errors:
                driver, identity, port = result
                await self.async_set_unique_id(_unique_id(driver, data[CONF_HOST], port, identity))
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): TextSelector(
                            TextSelectorConfig(autocomplete="off")
                        ),
                        vol.Optional(CONF_PORT): _PORT,
                        vol.Optional(CONF_UNIT): _UNIT,
                    }
                ),
                user_input or entry.data,
            ),
            errors=errors,
        )
