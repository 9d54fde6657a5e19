"""Ask an accepted OCPP 2.0.1 station for the meter values its model can send.

The same decisions as for 1.6 (meter_setup.configure_sampling, the model's quirks.json
entry), as device model variables of SampledDataCtrlr (2.0.1 appendix 3.1.14): the list
and interval of the transaction's periodic values (1.6 MeterValuesSampledData and
MeterValueSampleInterval are TxUpdatedMeasurands and TxUpdatedInterval). A station
rejects a list with a measurand it cannot sample, as a 1.6 charger does, so the same
one-by-one fallback and read-back apply. The readings at the transaction's start and end
(TxStartedMeasurands, TxEndedMeasurands) are set to the energy register: a session is the
register at its end minus the register at its start.
"""

from __future__ import annotations

from typing import Any, Final

from ocpp.v201 import call
from ocpp.v201.datatypes import (
    ComponentType,
    GetVariableDataType,
    SetVariableDataType,
    VariableType,
)
from ocpp.v201.enums import MeasurandEnumType

from ..const import LOGGER
from .meter_setup import INTERVAL, MEASURANDS, Caller, configure_sampling
from .quirks import ENERGY_REGISTER, Quirks

COMPONENT: Final = "SampledDataCtrlr"
VARIABLES: Final = {MEASURANDS: "TxUpdatedMeasurands", INTERVAL: "TxUpdatedInterval"}
# The registers at a transaction's ends.
ENDS: Final = ("TxStartedMeasurands", "TxEndedMeasurands")
# 2.0.1's measurands: 1.6's without RPM and Temperature, and a few new ones.
MEASURANDS_201: Final = frozenset(str(m) for m in MeasurandEnumType)


def _set(variable: str, value: str) -> Any:
    return call.SetVariables(
        set_variable_data=[
            SetVariableDataType(
                attribute_value=value,
                component=ComponentType(name=COMPONENT),
                variable=VariableType(name=variable),
            )
        ]
    )


async def _change(send: Caller, name: str, variable: str, value: str) -> str | None:
    try:
        result = await send(_set(variable, value))
    except Exception as err:
        LOGGER.debug("%s did not take %s.%s: %s", name, COMPONENT, variable, err)
        return None
    items = getattr(result, "set_variable_result", None) or []
    status = next((item.get("attribute_status") for item in items), None)
    if status != "Accepted":
        LOGGER.info("%s answered %s to %s.%s=%s", name, status, COMPONENT, variable, value)
    return None if status is None else str(status)


async def _read(send: Caller, name: str, variable: str) -> str | None:
    request = call.GetVariables(
        get_variable_data=[
            GetVariableDataType(
                component=ComponentType(name=COMPONENT), variable=VariableType(name=variable)
            )
        ]
    )
    try:
        result = await send(request)
    except Exception as err:
        LOGGER.debug("%s did not report %s.%s: %s", name, COMPONENT, variable, err)
        return None
    for item in getattr(result, "get_variable_result", None) or []:
        value = item.get("attribute_value")
        if item.get("attribute_status") == "Accepted" and isinstance(value, str):
            return value
    return None


async def async_configure_meter_201(send: Caller, name: str, quirks: Quirks) -> tuple[str, ...]:
    """Set the transaction's measurands and interval, and its registers at both ends."""

    async def change(setting: str, value: str) -> str | None:
        return await _change(send, name, VARIABLES[setting], value)

    async def read() -> str | None:
        return await _read(send, name, VARIABLES[MEASURANDS])

    wanted = tuple(m for m in quirks.meter.measurands if m in MEASURANDS_201)
    applied = await configure_sampling(change, read, quirks, wanted)
    for variable in ENDS:
        await _change(send, name, variable, ENERGY_REGISTER)
    return applied
