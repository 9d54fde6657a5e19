"""What a central system asks of the simulated OCPP 2.0.1 station, answered as a station does.

`RequestHandlers` are the `ocpp` library handlers that answer the requests with the
station's side of them (ocpp201_control.py: its profiles, availability, local list, device
model).
Tests force answers per action in `forced` ("Rejected", "NotSupported" and
"NotImplemented" as CALLERRORs), or let the station never answer an action (`silent`).

As a station does: a profile's limit caps what the car draws (phases x volts x amps), a
TxProfile needs the running transaction, an unknown EVSE or connector is refused, a
RequestStopTransaction names the station's own transaction id, Reset OnIdle waits for the
transaction (Scheduled), a Differential local list must be newer than the one it has,
and while disconnected it decides cards from its local list (LocalAuthorizeOffline).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.datatypes import (
    ComponentType,
    GetVariableResultType,
    SetVariableResultType,
    VariableType,
)
from ocpp.v201.enums import (
    Action,
    ChangeAvailabilityStatusEnumType,
    ChargingProfileStatusEnumType,
    ClearChargingProfileStatusEnumType,
    GetVariableStatusEnumType,
    RequestStartStopStatusEnumType,
    ResetStatusEnumType,
    SendLocalListStatusEnumType,
    SetVariableStatusEnumType,
    UnlockStatusEnumType,
)

from .ocpp201_control import CONNECTOR_ID, EVSE_ID

if TYPE_CHECKING:
    from collections.abc import Callable

    from .ocpp201_charger import GenericOcpp201Station

    type _Handler = Callable[..., Any]

handles = cast("Callable[[Action], Callable[[_Handler], _Handler]]", on)
then = cast("Callable[[Action], Callable[[_Handler], _Handler]]", after)


def _status(enum: type[StrEnum], value: str) -> Any:
    return enum(value)


class RequestHandlers:
    """The `ocpp` handlers of the central system's requests (mixed into the client)."""

    owner: GenericOcpp201Station

    async def route_message(self, raw_msg: str) -> None:
        """Drop the requests the station is told to leave unanswered."""
        message = json.loads(raw_msg)
        if message[0] == 2 and message[2] in self.owner.silent:
            self.owner.commands.append(message[2])
            return
        await super().route_message(raw_msg)  # type: ignore[misc]

    @handles(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            component, variable = item["component"]["name"], item["variable"]["name"]
            status = self.owner.set_variable(component, variable, item["attribute_value"])
            results.append(
                SetVariableResultType(
                    attribute_status=SetVariableStatusEnumType(status),
                    component=ComponentType(name=component),
                    variable=VariableType(name=variable),
                )
            )
        return call_result.SetVariables(set_variable_result=results)

    @handles(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        results = []
        for item in get_variable_data:
            component, variable = item["component"]["name"], item["variable"]["name"]
            value = self.owner.variables.get(f"{component}.{variable}")
            if component not in self.owner.components:
                status = GetVariableStatusEnumType.unknown_component
            elif value is None:
                status = GetVariableStatusEnumType.unknown_variable
            else:
                status = GetVariableStatusEnumType.accepted
            results.append(
                GetVariableResultType(
                    attribute_status=status,
                    attribute_value=value,
                    component=ComponentType(name=component),
                    variable=VariableType(name=variable),
                )
            )
        return call_result.GetVariables(get_variable_result=results)

    @handles(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        status = self.owner.take_profile(evse_id, charging_profile)
        return call_result.SetChargingProfile(status=_status(ChargingProfileStatusEnumType, status))

    @handles(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **payload: Any) -> call_result.ClearChargingProfile:
        status = self.owner.clear_profile(payload.get("charging_profile_id"))
        return call_result.ClearChargingProfile(
            status=_status(ClearChargingProfileStatusEnumType, status)
        )

    @handles(Action.request_start_transaction)
    def on_request_start_transaction(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> call_result.RequestStartTransaction:
        owner = self.owner
        status = owner.answer("RequestStartTransaction", RequestStartStopStatusEnumType)
        if evse_id not in (None, EVSE_ID) or owner.transaction_id is not None:
            status = "Rejected"
        if status == "Accepted":
            owner.remote_starts.append({"id_token": id_token, "remote_start_id": remote_start_id})
        return call_result.RequestStartTransaction(
            status=_status(RequestStartStopStatusEnumType, status)
        )

    @then(Action.request_start_transaction)
    def after_request_start_transaction(
        self, id_token: dict[str, Any], remote_start_id: int, **_: Any
    ) -> None:
        owner = self.owner
        started = owner.remote_starts and owner.remote_starts[-1]["remote_start_id"] == (
            remote_start_id
        )
        if started and owner.transaction_id is None:
            if owner.defer_remote_start:
                owner.pending_remote_start = (id_token, remote_start_id)
            else:
                owner.in_background(owner.remote_start(id_token, remote_start_id))

    @handles(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        status = self.owner.answer("RequestStopTransaction", RequestStartStopStatusEnumType)
        if transaction_id != self.owner.transaction_id:
            status = "Rejected"
        return call_result.RequestStopTransaction(
            status=_status(RequestStartStopStatusEnumType, status)
        )

    @then(Action.request_stop_transaction)
    def after_request_stop_transaction(self, transaction_id: str, **_: Any) -> None:
        owner = self.owner
        if transaction_id == owner.transaction_id and "RequestStopTransaction" not in owner.forced:
            owner.in_background(owner.stop_transaction("Remote", trigger="RemoteStop"))

    @handles(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        owner = self.owner
        status = owner.answer("Reset", ResetStatusEnumType)
        if evse_id not in (None, 0):
            status = "Rejected"  # this station resets only as a whole
        if status == "Accepted":
            owner.resets.append(type)
            if type == "OnIdle" and owner.transaction_id is not None:
                status = "Scheduled"
                owner.reset_scheduled = True
        return call_result.Reset(status=_status(ResetStatusEnumType, status))

    @then(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        owner = self.owner
        if (
            owner.commands[-1] == "Reset"
            and "Reset" not in owner.forced
            and not (owner.reset_scheduled)
        ):
            owner.in_background(owner.reboot(immediate=type == "Immediate"))

    @handles(Action.unlock_connector)
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        status = self.owner.answer("UnlockConnector", UnlockStatusEnumType, default="Unlocked")
        if (evse_id, connector_id) != (EVSE_ID, CONNECTOR_ID):
            status = "UnknownConnector"
        if status == "Unlocked":
            self.owner.unlocks += 1
        return call_result.UnlockConnector(status=_status(UnlockStatusEnumType, status))

    @handles(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        owner = self.owner
        status = owner.answer("ChangeAvailability", ChangeAvailabilityStatusEnumType)
        if evse is not None and evse.get("id") not in (0, EVSE_ID):
            status = "Rejected"
        if status == "Accepted" and owner.transaction_id is not None:
            status = "Scheduled"
        return call_result.ChangeAvailability(
            status=_status(ChangeAvailabilityStatusEnumType, status)
        )

    @then(Action.change_availability)
    def after_change_availability(self, operational_status: str, **_: Any) -> None:
        owner = self.owner
        if (
            owner.commands[-1] == "ChangeAvailability"
            and owner.transaction_id is None
            and "ChangeAvailability" not in owner.forced
        ):
            owner.available = operational_status == "Operative"
            owner.in_background(owner.status("Available" if owner.available else "Unavailable"))

    @handles(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        self.owner.answer("GetLocalListVersion", SendLocalListStatusEnumType)
        return call_result.GetLocalListVersion(version_number=self.owner.local_list_version)

    @handles(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        status = self.owner.take_local_list(
            version_number, update_type, local_authorization_list or []
        )
        return call_result.SendLocalList(status=_status(SendLocalListStatusEnumType, status))
