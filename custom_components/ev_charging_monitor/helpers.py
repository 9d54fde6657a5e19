"""Turn device-library errors of an entity action into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .devices import DeviceError, UnsupportedDeviceError
from .entity import EVChargingEntity


def device_action[_EntityT: EVChargingEntity, **_P](
    func: Callable[Concatenate[_EntityT, _P], Awaitable[Any]],
) -> Callable[Concatenate[_EntityT, _P], Coroutine[Any, Any, None]]:
    """Run a command on the device, map its errors, then refresh the live values."""

    @wraps(func)
    async def handler(self: _EntityT, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
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
        await self.coordinator.async_request_refresh()

    return handler
