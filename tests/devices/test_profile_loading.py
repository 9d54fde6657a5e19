"""Shipped profiles are read once per process; a user profile has a size limit in bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.ev_charging_monitor.devices.modbus import profile as profile_module
from custom_components.ev_charging_monitor.devices.modbus.profile import (
    MAX_PROFILE_BYTES,
    InvalidProfileError,
    ProfileTooLargeError,
    check_profile_size,
    load_profile_text,
    shipped_profiles,
    shipped_profiles_loaded,
)


def test_shipped_profiles_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first call no file is opened again, and every caller sees the same data."""
    first = shipped_profiles()
    assert shipped_profiles_loaded()
    expected = {path.stem for path in profile_module.PROFILES_DIR.glob("*.yaml")}
    assert set(first) == expected

    def no_reading(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("a profile file was read again")

    monkeypatch.setattr(Path, "read_text", no_reading)
    assert shipped_profiles() is first
    with pytest.raises(TypeError):
        first["x"] = first["vestel_evc04"]  # type: ignore[index]


def test_size_limit_counts_bytes() -> None:
    """256 KB is the limit in UTF-8 bytes: exactly the limit passes, one byte more fails."""
    check_profile_size("a" * MAX_PROFILE_BYTES)
    with pytest.raises(ProfileTooLargeError) as err:
        check_profile_size("a" * (MAX_PROFILE_BYTES + 1))
    assert err.value.size == MAX_PROFILE_BYTES + 1
    assert "at most 256 KB" in str(err.value)
    # "ä" is two bytes: half as many characters reach the limit.
    check_profile_size("ä" * (MAX_PROFILE_BYTES // 2))
    with pytest.raises(ProfileTooLargeError):
        check_profile_size("ä" * (MAX_PROFILE_BYTES // 2) + "a")


def test_too_large_profile_is_refused_before_parsing() -> None:
    """A too large text is never handed to the YAML parser (it would not even be YAML)."""
    garbage = "{" * (MAX_PROFILE_BYTES + 1)
    with pytest.raises(ProfileTooLargeError):
        load_profile_text(garbage)
    # The same text without the limit reaches the parser, and fails with a clear error.
    with pytest.raises(InvalidProfileError, match=r"nested too deeply|not valid YAML"):
        load_profile_text(garbage, limit=False)


def test_deep_nesting_within_the_limit_is_a_clear_error() -> None:
    """Nesting that exhausts the parser's stack is an invalid profile, not a crash."""
    with pytest.raises(InvalidProfileError, match="nested too deeply"):
        load_profile_text("[" * 200_000)
