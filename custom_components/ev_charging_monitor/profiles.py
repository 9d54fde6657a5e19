"""Device profiles for the event loop: read and parsed in the executor, never on the loop."""

from __future__ import annotations

from functools import partial

from homeassistant.core import HomeAssistant

from .devices.modbus.profile import (
    ModbusProfile,
    check_profile_size,
    load_profile_text,
    shipped_profiles,
    shipped_profiles_loaded,
)


async def async_load_shipped_profiles(hass: HomeAssistant) -> None:
    """Read the shipped profiles in the executor, once per process.

    Afterwards the device library's detection, driver list and factory find them cached.
    """
    if not shipped_profiles_loaded():
        await hass.async_add_executor_job(shipped_profiles)


async def async_parse_user_profile(
    hass: HomeAssistant, text: str, *, limit: bool = True
) -> ModbusProfile:
    """Parse a user's profile in the executor; with `limit`, too large a text is refused first.

    Setup passes `limit=False`: an entry stored before the limit existed keeps working.
    Raises ProfileTooLargeError or InvalidProfileError.
    """
    if limit:
        check_profile_size(text)
    return await hass.async_add_executor_job(
        partial(load_profile_text, text, "the profile", limit=False)
    )
