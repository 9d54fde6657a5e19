"""The structure a profile document must have (voluptuous), with defaults filled in.

The JSON Schema (profile.schema.json, profile_checks) is the strict twin applied to new
profiles; this schema is what every profile, new or stored, must pass to be built.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from ..models import ChargerState, DeviceKind
from .codecs import NUMERIC_WIDTH, DataType, WordOrder
from .profile_model import Table, WatchdogAction


def _address(value: Any) -> int:
    """Accept 0-based ints, hex strings ("0x4000") and decimal strings."""
    if isinstance(value, bool):
        raise vol.Invalid("expected a register address")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value, 0)
        except ValueError as err:
            raise vol.Invalid(f"{value!r} is not a register address") from err
    else:
        raise vol.Invalid("expected a register address")
    if not 0 <= number <= 0xFFFF:
        raise vol.Invalid(f"address {number} is outside 0..65535")
    return number


_UNIT = vol.All(int, vol.Range(min=0, max=255))
SPEC_KEYS: dict[Any, Any] = {
    vol.Required("address"): _address,
    vol.Optional("table"): vol.In([t.value for t in Table]),
    vol.Optional("unit"): _UNIT,
    vol.Required("type"): vol.In([t.value for t in DataType]),
    vol.Optional("count"): vol.All(int, vol.Range(min=1, max=125)),
    vol.Optional("word_order"): vol.In([w.value for w in WordOrder]),
    vol.Optional("scale"): vol.Coerce(float),
    vol.Optional("scale_factor"): str,
    vol.Optional("mask"): vol.All(int, vol.Range(min=1)),
    vol.Optional("shift"): vol.All(int, vol.Range(min=0, max=63)),
    vol.Optional("sentinels"): [vol.All(int, vol.Range(min=0))],
    vol.Optional("enum"): {vol.Any(int, str): str},
    vol.Optional("block"): str,
    vol.Optional("optional"): bool,
    vol.Optional("resolution"): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
    vol.Optional("version_bits"): [vol.All(int, vol.Range(min=1, max=32))],
    vol.Optional("same_register_as"): str,
}
_SPEC = vol.Schema(SPEC_KEYS)
_PROBE = vol.Schema(
    {
        **SPEC_KEYS,
        vol.Optional("equals"): vol.Any(int, float, str),
        vol.Optional("one_of"): [vol.Any(int, float, str)],
        vol.Optional("matches"): str,
    }
)
_CONDITION = vol.Schema(
    {
        vol.Optional("eq"): vol.Any(int, float, str),
        vol.Optional("ne"): vol.Any(int, float, str),
        vol.Optional("lt"): vol.Any(int, float),
        vol.Optional("ge"): vol.Any(int, float),
        vol.Optional("in"): [vol.Any(int, float, str)],
    }
)
_STATES = [s.value for s in ChargerState]
# A register a control writes: the setpoint, the failsafe current or the failsafe timeout.
_CONTROL_REGISTER = vol.Schema(
    {
        vol.Required("address"): _address,
        vol.Optional("unit"): _UNIT,
        vol.Required("type"): vol.In([t.value for t in NUMERIC_WIDTH]),
        vol.Optional("word_order"): vol.In([w.value for w in WordOrder]),
        vol.Optional("amps_per_unit", default=1.0): vol.Coerce(float),
        vol.Optional("multiple", default=False): bool,
    }
)
PROFILE_SCHEMA = vol.Schema(
    {
        vol.Required("id"): vol.Match(r"^[a-z0-9_]+$", msg="use lower-case letters, digits, _"),
        vol.Required("name"): str,
        vol.Required("kind"): vol.In([k.value for k in DeviceKind]),
        vol.Required("manufacturer"): str,
        vol.Required("source"): str,
        vol.Optional("connection", default={}): {
            vol.Optional("port", default=502): vol.All(int, vol.Range(min=1, max=65535)),
            vol.Optional("unit", default=1): _UNIT,
            vol.Optional("table", default="holding"): vol.In([t.value for t in Table]),
            vol.Optional("word_order", default="big"): vol.In([w.value for w in WordOrder]),
            vol.Optional("max_registers", default=125): vol.All(int, vol.Range(min=1, max=125)),
            vol.Optional("max_gap", default=0): vol.All(int, vol.Range(min=0, max=124)),
            vol.Optional("split_values", default=False): bool,
        },
        vol.Optional("capabilities", default={}): {
            vol.Optional("phases", default=3): vol.In([1, 3]),
            vol.Optional("min_current"): vol.Coerce(float),
            vol.Optional("max_current"): vol.Coerce(float),
        },
        vol.Required("values"): {
            vol.Match(r"^[a-z][a-z0-9_]*$", msg="use lower-case letters, digits, _"): _SPEC
        },
        vol.Optional("identity", default={}): {
            vol.In(["model", "serial", "firmware", "manufacturer"]): vol.Any(str, _SPEC)
        },
        vol.Optional("state"): vol.Any(
            {vol.Required("from"): str, vol.Required("map"): {vol.Any(int, str): vol.In(_STATES)}},
            {
                vol.Required("rules"): [
                    {
                        vol.Optional("when", default={}): {str: _CONDITION},
                        vol.Required("state"): vol.In(_STATES),
                    }
                ]
            },
        ),
        vol.Optional("controls", default={}): {
            vol.Optional("current_limit"): _CONTROL_REGISTER,
            # Written while a charger is held, so an outage of the manager never opens it.
            vol.Optional("failsafe_current"): _CONTROL_REGISTER,
            vol.Optional("failsafe_timeout"): _CONTROL_REGISTER,
            vol.Optional("enable"): vol.Any(
                "zero_current",
                {
                    vol.Required("mode"): vol.In(["register", "coil"]),
                    vol.Required("address"): _address,
                    vol.Optional("unit"): _UNIT,
                    # Not "on"/"off": YAML 1.1 reads those keys as booleans.
                    vol.Optional("value_on", default=1): int,
                    vol.Optional("value_off", default=0): int,
                },
            ),
            vol.Optional("watchdog"): {
                vol.Required("action"): vol.In([a.value for a in WatchdogAction]),
                vol.Required("interval"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
                vol.Optional("address"): _address,
                vol.Optional("unit"): _UNIT,
                vol.Optional("value", default=1): int,
                vol.Optional("when", default={}): {str: _CONDITION},
            },
        },
        vol.Optional("detect", default=[]): [_PROBE],
        vol.Optional("sunspec"): {
            vol.Optional("bases", default=[40000, 0, 50000]): [_address],
            vol.Required("blocks"): {
                vol.Match(r"^[a-z][a-z0-9_]*$", msg="use lower-case letters, digits, _"): vol.All(
                    [vol.All(int, vol.Range(min=1, max=0xFFFE))], vol.Length(min=1)
                )
            },
        },
    }
)


def error_path(error: vol.Invalid) -> str:
    """Where in the document an error is, as dotted keys ("values.power.scale")."""
    return ".".join(str(part) for part in error.path) or "profile"
