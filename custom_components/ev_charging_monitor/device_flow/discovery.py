"""Devices found rather than typed in: a scan of the network, or one announcing itself."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from ..const import CONF_DRIVER
from ..devices import DeviceError
from ..devices.discovery import DetectedDevice, detect, scan_subnet
from ..identity import device_unique_id
from ..profiles import async_load_shipped_profiles
from .identify import DeviceFlowBase
from .schema import device_name

CONF_NETWORK = "network"
CONF_FOUND = "found"


class DiscoverySteps(DeviceFlowBase):
    """The network scan, and zeroconf announcements confirmed by the user."""

    _found: tuple[DetectedDevice, ...] = ()  # what the scan found that is not set up
    _discovered: DetectedDevice | None = None  # what announced itself

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
                self._found = tuple(
                    device
                    for device in found
                    if (device.host, device.port) not in addresses
                    and (device_unique_id(device.identity) or "") not in configured
                )
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
                label=f"{device_name(device.identity)} ({device.host}:{device.port})",
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
            if "_http." in discovery_info.type or "_shelly." in discovery_info.type
            else None
        )
        await async_load_shipped_profiles(self.hass)
        try:
            found = await detect(host, async_get_clientsession(self.hass), port=port)
        except DeviceError:
            return self.async_abort(reason="unsupported_device")
        await self._claim(host, found.driver, found.port, found.identity)
        self._discovered = found
        self.context["title_placeholders"] = {"name": device_name(found.identity)}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before adding a discovered device."""
        found = self._discovered
        assert found is not None
        if user_input is not None:
            return self.async_create_entry(
                title=device_name(found.identity),
                data={CONF_HOST: found.host, CONF_PORT: found.port, CONF_DRIVER: found.driver},
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={"name": device_name(found.identity), "host": found.host},
        )
