"""Declarative Modbus device profiles: loading them from YAML, and the shipped ones.

A profile is a YAML document (see profiles/*.yaml for the shipped ones) that describes one
device family. Its data lives in profile_model, its structure in profile_schema, and it is
built and checked by profile_parse; this module reads documents and re-exports the names
other modules use, so `from .profile import ...` keeps working.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from ..errors import InvalidProfileError
from .profile_model import (
    Condition,
    CurrentControl,
    EnableControl,
    EnableMode,
    FailsafeControl,
    ModbusProfile,
    Probe,
    RegisterSpec,
    StateRule,
    SunSpecLayout,
    Table,
    Watchdog,
    WatchdogAction,
)
from .profile_parse import parse_profile

__all__ = [
    "MAX_PROFILE_BYTES",
    "PROFILES_DIR",
    "Condition",
    "CurrentControl",
    "EnableControl",
    "EnableMode",
    "FailsafeControl",
    "InvalidProfileError",
    "ModbusProfile",
    "Probe",
    "ProfileTooLargeError",
    "RegisterSpec",
    "StateRule",
    "SunSpecLayout",
    "Table",
    "Watchdog",
    "WatchdogAction",
    "check_profile_size",
    "load_profile_file",
    "load_profile_text",
    "parse_profile",
    "shipped_profiles",
    "shipped_profiles_loaded",
]

PROFILES_DIR = Path(__file__).parent / "profiles"
# A user-supplied profile larger than this is refused before it is parsed: the largest
# shipped profile is a few kilobytes, and parsing grows with the size (25 000 values took
# seconds), so a limit keeps a pasted document from stalling its caller.
MAX_PROFILE_BYTES = 256 * 1024
# libyaml's safe loader reads the same documents as PyYAML's pure-Python one, ~30 times
# faster (a 250 KB profile: 8 s in pure Python on a busy machine).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileTooLargeError(InvalidProfileError):
    """A user-supplied profile exceeds MAX_PROFILE_BYTES."""

    def __init__(self, size: int) -> None:
        """Say how large the profile is and what is allowed."""
        super().__init__(
            f"the profile has {size // 1024} KB; at most {MAX_PROFILE_BYTES // 1024} KB "
            "are accepted",
            reason="too_large",
        )
        self.size = size


def load_profile_file(path: Path) -> ModbusProfile:
    """Load and validate a profile file (YAML or JSON). Blocking: reads the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidProfileError(f"cannot read profile {path}: {err.strerror}") from err
    return load_profile_text(text, origin=str(path))


def check_profile_size(text: str) -> None:
    """Raise ProfileTooLargeError when a profile exceeds MAX_PROFILE_BYTES (cheap)."""
    if (size := len(text.encode("utf-8"))) > MAX_PROFILE_BYTES:
        raise ProfileTooLargeError(size)


def load_profile_text(
    text: str, origin: str = "profile", *, limit: bool = True, strict: bool = True
) -> ModbusProfile:
    """Load and validate a profile from YAML (JSON is YAML too).

    With `limit`, a text above MAX_PROFILE_BYTES is refused before parsing; `strict` see
    parse_profile. CPU-bound for a large document: callers in an event loop run it in an
    executor.
    """
    if limit:
        check_profile_size(text)
    try:
        document = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = "" if mark is None else str(mark.line + 1)
        raise InvalidProfileError(
            f"{origin} is not valid YAML: {err}",
            reason="not_yaml",
            placeholders={"field": "profile", "line": line},
        ) from err
    except RecursionError as err:
        raise InvalidProfileError(
            f"{origin} is nested too deeply",
            reason="too_deep",
            placeholders={"field": "profile"},
        ) from err
    if not isinstance(document, dict):
        raise InvalidProfileError(
            f"{origin}: a profile must be a mapping of fields",
            reason="not_mapping",
            placeholders={"field": "profile"},
        )
    return parse_profile(document, strict=strict)


_shipped: Mapping[str, ModbusProfile] | None = None
_shipped_lock = threading.Lock()


def _read_shipped() -> Mapping[str, ModbusProfile]:
    profiles = {}
    for path in sorted(PROFILES_DIR.glob("*.yaml")):
        profile = load_profile_file(path)
        profiles[profile.id] = profile
    return MappingProxyType(profiles)


def shipped_profiles() -> Mapping[str, ModbusProfile]:
    """Every profile shipped with the library, by id.

    The files are read and parsed once per process and cached: the first call blocks on
    file I/O, so an event-loop application makes it in an executor (see
    `shipped_profiles_loaded`); every later call returns the cache without I/O.
    """
    global _shipped
    if _shipped is None:
        with _shipped_lock:
            if _shipped is None:
                _shipped = _read_shipped()
    return _shipped


def shipped_profiles_loaded() -> bool:
    """Whether shipped_profiles() returns without reading files."""
    return _shipped is not None
