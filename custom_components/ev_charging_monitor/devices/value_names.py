"""The value names a profile's `values` may use, and what each one means.

A value under one of these names becomes an entity or is used by the integration (plug
cycles, failsafe checks); the unit is the one the profile's `scale` must produce. Any other
name is read and kept in the reading's `extra` (diagnostics) only, which a profile author
is warned about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

# Names with an entity of their own, with their unit ("" for none).
ENTITY_VALUES: Mapping[str, str] = MappingProxyType(
    {
        "power": "W",
        "power_l1": "W",
        "power_l2": "W",
        "power_l3": "W",
        "current_l1": "A",
        "current_l2": "A",
        "current_l3": "A",
        "voltage_l1": "V",
        "voltage_l2": "V",
        "voltage_l3": "V",
        "energy": "Wh",
        "energy_export": "Wh",
        "session_energy": "Wh",
        "current_limit": "A",
        "enabled": "",
    }
)
# The current a charger falls back to when its energy manager falls silent, as devices
# name it, and the silence after which it does (0 = never): read in this order.
FAILSAFE_CURRENT_NAMES: tuple[str, ...] = ("failsafe_current", "safe_current")
FAILSAFE_TIMEOUT_NAMES: tuple[str, ...] = ("failsafe_timeout", "communication_timeout")
# Names used without an entity of their own.
USED_VALUES: Mapping[str, str] = MappingProxyType(
    {
        "rfid": "",  # the card of the session (authorization, session records)
        "charging_time": "s",  # seconds charged in this plug cycle (detects a new plug-in)
        "failsafe_current": "A",  # the current the charger falls back to without a manager
        "safe_current": "A",  # the same, as some devices name it
        "failsafe_timeout": "s",  # the silence after which it falls back
        "communication_timeout": "s",  # the same, as some devices name it
    }
)
KNOWN_VALUES: frozenset[str] = frozenset(ENTITY_VALUES) | frozenset(USED_VALUES)


def unknown_value_names(names: Iterable[str], referenced: Iterable[str]) -> list[str]:
    """The names nothing uses: neither known nor referenced by the profile itself.

    A value the profile's state, scale factors or watchdog conditions read is used, whatever
    its name.
    """
    used = KNOWN_VALUES | set(referenced)
    return sorted(name for name in names if name not in used)
