"""Turn device-library errors of an entity action into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .devices import DeviceError, UnsupportedDeviceError
from .entity import EVChargingEntity


async def run_device_command(entity: EVChargingEntity, command: Awaitable[None]) -> None:
    """Run a command on the device, map its errors, then refresh the live values."""
    try:
        await command
    except UnsupportedDeviceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="unsupported_command",
            translation_placeholders={"error": str(err)},
        ) from err
    except DeviceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="communication_error",
            translation_placeholders={"error": str(err)},
        ) from err
    await entity.coordinator.async_request_refresh()
