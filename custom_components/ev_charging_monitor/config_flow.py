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
from homeassistant.helpers.device_registry import format_mac
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
from .central_system.const import CONF_CHARGE_POINT_ID
from .central_system.flow import CentralSystemSteps
from .central_system.setup import is_central_system_entry, is_ocpp_charger
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
from .devices.discovery_signatures import probe_keba_udp
from .devices.errors import ProfileReadError
from .devices.factory import create_device, driver_ids
from .devices.modbus.device import ModbusDevice
from .devices.modbus.profile import MAX_PROFILE_BYTES, ModbusProfile, ProfileTooLargeError
from .devices.modbus.trial import trial_read
from .devices.neighbours import neighbour_mac
from .entity_charger.flow import EntityChargerSteps
from .entity_charger.setup import is_entity_charger
from .identity import device_unique_id
from .ledger_link.entry import (
    LEDGER_NAME,
    STANDALONE_ID,
    checked_ledger_url,
    is_ledger_entry,
    ledger_entry_data,
    standalone_ledger_data,
)
from .options_flow import EVChargingOptionsFlow
from .profiles import (
    NO_DETAIL,
    PROFILE_DOCS_URL,
    async_load_shipped_profiles,
    async_parse_user_profile,
    profile_error,
    read_error,
)

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


# The KEBA's legacy UDP interface (kept a module attribute so a test can aim it at a
# simulator on other ports: a real box always answers to port 7090).
KEBA_PROBE: dict[str, Any] = {}
KEBA_DRIVER = "keba_p30"


def _address_based(entry: EVChargingConfigEntry) -> bool:
    """Whether the entry has no unique id, or one made from its address by earlier versions."""
    unique_id = entry.unique_id
    return unique_id is None or unique_id.startswith(f"{entry.data.get(CONF_DRIVER)}_")


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    data = {CONF_HOST: user_input[CONF_HOST].strip()}
    for key in (CONF_PORT, CONF_UNIT):
        if user_input.get(key) is not None:
            data[key] = int(user_input[key])
    return data


class EVChargingConfigFlow(EntityChargerSteps, CentralSystemSteps, ConfigFlow, domain=DOMAIN):
    """Set up a wallbox or an energy meter."""

    VERSION = 1
    MINOR_VERSION = 2  # 1.2: time-of-use periods name their days of the week

    def __init__(self) -> None:
        """Start with nothing found."""
        self._discovered: DetectedDevice | None = None
        self._pending: dict[str, Any] = {}
        self._found: list[DetectedDevice] = []
        self._profile: tuple[str, ModbusProfile] | None = None  # the user's text, parsed
        # A user's profile that read the device: entry data, driver id, identity.
        self._profile_entry: tuple[dict[str, Any], str, Identity] | None = None
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
        """The ledger's entry and the OCPP central system's have nothing to set."""
        return not is_ledger_entry(config_entry) and not is_central_system_entry(config_entry)

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
        await self._claim(data[CONF_HOST], driver, port, identity)
        entry_data = {**data, CONF_DRIVER: driver}
        if port is not None:
            entry_data[CONF_PORT] = port
        return self.async_create_entry(
            title=f"{identity.manufacturer} {identity.model}", data=entry_data
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, optional port and unit id, and auto-detection or a chosen profile."""
        return self.async_show_menu(
            step_id="user",
            menu_options=["manual", "scan", "authorization", "keba", "entities", "central_system"],
        )

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
                    data = {**_clean(user_input), CONF_DRIVER: KEBA_DRIVER}
                    errors, result = await self._validate(data)
                    if errors.get("base") == "cannot_connect":
                        errors["base"] = "keba_modbus_off"
                    if not errors:
                        return await self._create(data, *result)
        return self.async_show_form(
            step_id="keba",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_HOST): TextSelector(
                            TextSelectorConfig(autocomplete="off")
                        ),
                        vol.Optional(CONF_PORT): _PORT,
                    }
                ),
                user_input,
            ),
            errors=errors,
            description_placeholders=placeholders,
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
        """Paste a profile for a device that is not shipped; it is tried on the device."""
        errors: dict[str, str] = {}
        placeholders = {
            "max_kb": str(MAX_PROFILE_BYTES // 1024),
            "size_kb": "",
            "docs_url": PROFILE_DOCS_URL,
            **NO_DETAIL,
        }
        if user_input is not None:
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
                entries = self._async_current_entries()
                configured = {entry.unique_id for entry in entries}
                addresses = {(e.data.get(CONF_HOST), e.data.get(CONF_PORT)) for e in entries}
                self._found = [
                    device
                    for device in found
                    if (device.host, device.port) not in addresses
                    and (device_unique_id(device.identity) or "") not in configured
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
        await self._claim(host, found.driver, found.port, found.identity)
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
        if CONF_CHARGE_POINT_ID in discovery_info:  # an OCPP charger connected instead
            return await self.async_ocpp_discovered(discovery_info)
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
        if is_entity_charger(entry):
            return await self.async_reconfigure_entities()
        if is_ocpp_charger(entry) or is_central_system_entry(entry):
            return self.async_abort(reason="ocpp_not_reconfigurable")
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **_clean(user_input)}
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
