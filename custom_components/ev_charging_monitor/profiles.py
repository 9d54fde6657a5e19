"""Device profiles for the event loop: read and parsed in the executor, never on the loop.

Also what the config flow shows for a user's profile: the translation key and placeholders
of each profile error, and a trial read that names the register a device refuses.
"""

from __future__ import annotations

from functools import partial

from homeassistant.core import HomeAssistant

from .devices.errors import InvalidProfileError, ProfileReadError
from .devices.modbus.profile import (
    ModbusProfile,
    ProfileTooLargeError,
    check_profile_size,
    load_profile_text,
    shipped_profiles,
    shipped_profiles_loaded,
)

PROFILE_DOCS_URL = (
    "https://github.com/ev-charging-monitor/ev-charging-monitor/blob/main/docs/user_profiles.md"
)
# InvalidProfileError.reason -> the config flow's error key (strings.json config.error).
PROFILE_ERRORS = {
    "missing": "profile_missing",
    "unknown_key": "profile_unknown_key",
    "not_allowed": "profile_not_allowed",
    "out_of_range": "profile_out_of_range",
    "bad_name": "profile_bad_name",
    "wrong_type": "profile_wrong_type",
    "not_yaml": "profile_not_yaml",
    "too_deep": "profile_not_yaml",
    "not_mapping": "profile_not_mapping",
    "duplicate_register": "profile_duplicate_register",
    "overlapping_registers": "profile_overlapping_registers",
    "not_same_register": "profile_not_same_register",
    "no_value": "profile_no_value",
    "version_bits": "profile_version_bits",
    "version_bits_type": "profile_field_not_here",
    "watchdog_when": "profile_field_not_here",
    "block_unexpected": "profile_field_not_here",
    "no_block": "profile_no_value",
    "bool_table": "profile_bool_table",
    "bits_type": "profile_bool_table",
    "state_missing": "profile_state_missing",
    "needs_current_limit": "profile_needs_current_limit",
    "bad_pattern": "profile_wrong_type",
}
# Every placeholder the profile errors use, empty: each text formats whatever its reason.
NO_DETAIL: dict[str, str] = dict.fromkeys(
    (
        "field",
        "other",
        "register",
        "name",
        "allowed",
        "limit",
        "line",
        "bits",
        "total",
        "code",
        "detail",
    ),
    "",
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

    Setup and reconfigure pass `limit=False`: an entry stored before the limit and the
    stricter checks (schema, overlapping registers) existed keeps working.
    Raises ProfileTooLargeError or InvalidProfileError.
    """
    if limit:
        check_profile_size(text)
    return await hass.async_add_executor_job(
        partial(load_profile_text, text, "the profile", limit=False, strict=limit)
    )


def profile_error(err: InvalidProfileError) -> tuple[str, dict[str, str]]:
    """The config flow's error key for a profile error, and its placeholders."""
    placeholders = {**NO_DETAIL, **err.placeholders}
    if isinstance(err, ProfileTooLargeError):
        return "profile_too_large", placeholders
    if err.reason in PROFILE_ERRORS:
        return PROFILE_ERRORS[err.reason], placeholders
    # A rule without a reason of its own still names the field it concerns.
    return ("profile_wrong_type" if placeholders["field"] else "invalid_profile"), placeholders


def read_error(err: ProfileReadError) -> tuple[str, dict[str, str]]:
    """The config flow's error key for a failed trial read, naming the value and register."""
    placeholders = {"field": err.field, "register": err.register, "code": str(err.code or "")}
    key = "profile_read_timeout" if err.code is None else "profile_read_refused"
    return key, placeholders
