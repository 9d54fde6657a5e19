"""Build a driver for a device by its driver id."""

from __future__ import annotations

import aiohttp

from .base import Device
from .errors import UnsupportedDeviceError
from .http import HTTP_DRIVERS
from .modbus.device import ModbusDevice
from .modbus.profile import ModbusProfile, load_profile_text, shipped_profiles


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
    profile_yaml: str | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout: float = 3.0,
) -> Device:
    """Return the driver for `driver` (a shipped id, or a user profile in `profile_yaml`)."""
    for http_driver in HTTP_DRIVERS:
        if http_driver.id == driver and profile_yaml is None:
            return http_driver(host, port=port, session=session, timeout=timeout)
    profile: ModbusProfile | None
    if profile_yaml is not None:
        profile = load_profile_text(profile_yaml, origin="the profile file")
    else:
        profile = shipped_profiles().get(driver)
    if profile is None:
        raise UnsupportedDeviceError(f"no driver named {driver!r}")
    return ModbusDevice(profile, host, port=port, unit=unit, timeout=timeout)
