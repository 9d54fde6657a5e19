"""Turn device-library errors of a command into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .central_system.control import CommandError
from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .devices import DeviceError, DeviceExceptionResponse, UnsupportedDeviceError
from .entity import EVChargingEntity
from .repairs import async_remote_control_accepted, async_remote_control_refused


async def async_run_command(entry: EVChargingConfigEntry, command: Awaitable[None]) -> None:
    """Run a command on the entry's device, map its errors, then refresh the live values.

    A write the device refuses as an unknown function or address means remote control is
    switched off on the charger: that raises a repair issue, which the next accepted
    command clears.
    """
    hass = entry.runtime_data.live.hass
    try:
        await command
    except UnsupportedDeviceError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unsupported_command",
            translation_placeholders={"error": str(err)},
        ) from err
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err)},
        ) from err
    except DeviceExceptionResponse as err:
        if async_remote_control_refused(hass, entry, err):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="remote_control_disabled",
                translation_placeholders={"error": str(err)},
            ) from err
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_refused",
            translation_placeholders={"error": str(err)},
        ) from err
    except CommandError as err:
        # An OCPP charger's answer (Rejected, NotSupported) or its absence, by name.
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders={"name": entry.title, **err.placeholders},
        ) from err
    except DeviceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="communication_error",
            translation_placeholders={"error": str(err)},
        ) from err
    async_remote_control_accepted(hass, entry)
    await entry.runtime_data.live.async_request_refresh()


async def run_device_command(entity: EVChargingEntity, command: Awaitable[None]) -> None:
    """Run a command for an entity (see async_run_command)."""
    await async_run_command(entity.coordinator.config_entry, command)
