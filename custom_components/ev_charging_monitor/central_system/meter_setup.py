"""Ask an accepted charger for the meter values its model can send (Home Assistant-free).

The decisions are the same for both OCPP versions (`configure_sampling`); 1.6 words them
as ChangeConfiguration keys (here), 2.0.1 as SampledDataCtrlr variables (meter_setup_201.py).

OCPP 1.6 has a charger reject a MeterValuesSampledData list when it cannot sample one of
its measurands (3.16.4), so a rejected list is tried measurand by measurand and the ones it
takes are set together; the list is then read back, as a charger may shorten it. A model
whose quirks say it accepts any list and reboots once the list is read back (ABB Terra AC)
gets only the measurands it is known to support, and the list is never read back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from ocpp.v16 import call

from ..const import LOGGER
from .quirks import Quirks

SAMPLED_DATA: Final = "MeterValuesSampledData"
SAMPLE_INTERVAL: Final = "MeterValueSampleInterval"
# ChangeConfiguration answers that mean the value is (or will be after a reboot) in force.
_TAKEN: Final = frozenset({"Accepted", "RebootRequired"})

# Sends one request and returns its confirmation (None after a CallError).
type Caller = Callable[[Any], Awaitable[Any]]
# What the shared decisions need of a version: set the measurand list or the interval
# (the status, None when the request failed), and read the measurand list back.
MEASURANDS: Final = "measurands"
INTERVAL: Final = "interval"
type Change = Callable[[str, str], Awaitable[str | None]]
type Read = Callable[[], Awaitable[str | None]]


async def _change(send: Caller, name: str, key: str, value: str) -> str | None:
    try:
        result = await send(call.ChangeConfiguration(key=key, value=value))
    except Exception as err:
        LOGGER.debug("%s did not take %s: %s", name, key, err)
        return None
    status = getattr(result, "status", None)
    if status not in _TAKEN:
        LOGGER.info("%s answered %s to %s=%s", name, status, key, value)
    return None if status is None else str(status)


async def _read(send: Caller, name: str, key: str) -> str | None:
    try:
        result = await send(call.GetConfiguration(key=[key]))
    except Exception as err:
        LOGGER.debug("%s did not report %s: %s", name, key, err)
        return None
    for item in getattr(result, "configuration_key", None) or []:
        if item.get("key") == key and isinstance(item.get("value"), str):
            return str(item["value"])
    return None


def tolerate_nonstandard_contexts(route_map: dict[str, dict[str, Any]], quirks: Quirks) -> None:
    """Take meter values with reading contexts outside OCPP 1.6 from models that send them.

    Schema validation would answer them with a CallError, which makes the charger retry and
    finally drop the values, while OCPP says a sanity check should never withhold the
    confirmation (1.6 4.7, 4.10). The values themselves are read as usual; the context is
    not used.
    """
    if quirks.meter.nonstandard_contexts:
        for action in ("MeterValues", "StopTransaction"):
            if action in route_map:
                route_map[action]["_skip_schema_validation"] = True


async def configure_sampling(
    change: Change, read: Read, quirks: Quirks, measurands: tuple[str, ...]
) -> tuple[str, ...]:
    """Set `measurands` and the model's interval; returns the measurands in force, as known.

    Nothing here is fatal: a charger that refuses reports what it was set up to report.
    """
    meter = quirks.meter
    applied: tuple[str, ...] = ()
    if await change(MEASURANDS, ",".join(measurands)) in _TAKEN:
        applied = measurands
    elif meter.unsupported_measurands == "rejected":
        # One measurand it cannot sample fails the whole list: find the ones it takes.
        taken = [m for m in measurands if await change(MEASURANDS, m) in _TAKEN]
        together = ",".join(taken)
        if len(taken) == 1 or (len(taken) > 1 and await change(MEASURANDS, together) in _TAKEN):
            applied = tuple(taken)
    await change(INTERVAL, str(meter.sample_interval_s))
    if meter.unsupported_measurands == "rejected":
        reported = await read()
        if reported is not None:
            applied = tuple(item.strip() for item in reported.split(",") if item.strip())
    return applied


async def async_configure_meter(send: Caller, name: str, quirks: Quirks) -> tuple[str, ...]:
    """OCPP 1.6: MeterValuesSampledData and MeterValueSampleInterval."""
    keys = {MEASURANDS: SAMPLED_DATA, INTERVAL: SAMPLE_INTERVAL}

    async def change(setting: str, value: str) -> str | None:
        return await _change(send, name, keys[setting], value)

    async def read() -> str | None:
        return await _read(send, name, SAMPLED_DATA)

    return await configure_sampling(change, read, quirks, quirks.meter.measurands)
