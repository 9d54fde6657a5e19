"""Build a driver for a device by its driver id."""

from __future__ import annotations

import aiohttp

from .base import Device
from .errors import UnsupportedDeviceError
from .http import HTTP_DRIVERS
from .modbus.device import ModbusDevice
from .modbus.profile import ModbusProfile, shipped_profiles


def driver_ids() -> dict[str, str]:
    """Every shipped driver id with a name a person recognises."""
    names = {profile.id: profile.name for profile in shipped_profiles().values()}
    names.update({driver.id: driver.name for driver in HTTP_DRIVERS})
    return names


def create_device(
    driver: str,
    host: str,
    *,
    port: int | None = None,
    unit: int | None = None,
    profile: ModbusProfile | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout: float = 3.0,
    resume_current_a: float | None = None,
) -> Device:
    """Return the driver for `driver`: a shipped id, or the user's own `profile`.

    A user profile comes parsed (`load_profile_text`), so the caller decides where the
    parsing runs; an event loop runs it in an executor. `resume_current_a` is the limit
    the user set last, for chargers that resume from a pause by writing a limit.
    """
    if profile is None:
        for http_driver in HTTP_DRIVERS:
            if http_driver.id == driver:
                return http_driver(host, port=port, session=session, timeout=timeout)
        profile = shipped_profiles().get(driver)
    if profile is None:
        raise UnsupportedDeviceError(f"no driver named {driver!r}")
    return ModbusDevice(
        profile,
        host,
        port=port,
        unit=unit,
        timeout=timeout,
        resume_current_a=resume_current_a,
    )
