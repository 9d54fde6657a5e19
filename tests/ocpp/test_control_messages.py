"""Every control command, worded for OCPP 1.6 and 2.0.1, passes that version's schema.

The `ocpp` library validates what it sends against the OCPP JSON schemas: a request its
version's schema refuses would never leave Home Assistant. The integration tests send most
of these; here each is checked for both versions, with the edge cases (an empty list that
clears, a removal, W instead of A) that the simulated chargers do not all reach.
"""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import ValidationError
from ocpp.messages import Call, validate_payload

from custom_components.ev_charging_monitor.central_system.control import MESSAGES
from custom_components.ev_charging_monitor.central_system.control_messages import (
    LocalListEntry,
    Messages,
    Profile,
)
from custom_components.ev_charging_monitor.central_system.transactions import OpenTransaction

TRANSACTION = OpenTransaction(
    transaction_id=17,
    connector_id=1,
    id_tag="04A2B3C4D5",
    meter_start=1000,
    timestamp="2026-03-01T20:00:00Z",
    station_transaction_id="5d2ac010-4d42-4b1e-9c93-6c9346b1b487",
)


def _profile(purpose: Any, unit: Any = "A") -> Profile:
    return Profile(
        profile_id=2 if purpose == "TxProfile" else 1,
        stack_level=0,
        purpose=purpose,
        unit=unit,
        limit=6.0 if unit == "A" else 4140.0,
        start="2026-03-01T19:59:00Z",
        connector_id=1 if purpose == "TxProfile" else 0,
        transaction=TRANSACTION if purpose == "TxProfile" else None,
    )


def _requests(messages: Messages) -> list[Any]:
    entries = [
        LocalListEntry(id_tag="04A2B3C4D5", status="Accepted", expiry_date="2026-04-01T00:00:00Z"),
        LocalListEntry(id_tag="04BBBBBBBB", status="Blocked"),
    ]
    return [
        messages.set_profile(_profile("TxDefaultProfile")),
        messages.set_profile(_profile("TxProfile")),
        messages.set_profile(_profile("TxDefaultProfile", "W")),
        messages.clear_profile(1),
        messages.remote_start("HA0123456789abcdef01", connector_id=1, remote_start_id=42),
        messages.remote_stop(TRANSACTION),
        messages.reset(hard=False),
        messages.reset(hard=True),
        messages.unlock(connector_id=1),
        messages.change_availability(operative=False),
        messages.change_availability(operative=True),
        messages.get_local_list_version(),
        messages.send_local_list(1, entries, full=True),
        messages.send_local_list(2, [LocalListEntry(id_tag="04BBBBBBBB", status=None)], full=False),
        messages.send_local_list(3, [], full=True),  # empties the list
    ]


def _wire(payload: Any) -> dict[str, Any]:
    data = remove_nones(snake_to_camel_case(serialize_as_dict(payload)))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_request_passes_its_schema(version: str) -> None:
    for number, payload in enumerate(_requests(MESSAGES[version])):
        call = Call(unique_id=str(number), action=type(payload).__name__, payload=_wire(payload))
        try:
            await validate_payload(call, version)
        except ValidationError as err:  # pragma: no cover - the message names the request
            pytest.fail(f"{version} {call.action} {call.payload}: {err}")


def test_the_versions_name_their_own_things() -> None:
    """1.6: connector, our integer id, Soft; 2.0.1: EVSE, the station's id, OnIdle."""
    old, new = MESSAGES["1.6"], MESSAGES["2.0.1"]
    assert _wire(old.remote_stop(TRANSACTION)) == {"transactionId": 17}
    assert _wire(new.remote_stop(TRANSACTION)) == {
        "transactionId": "5d2ac010-4d42-4b1e-9c93-6c9346b1b487"
    }
    profile = _wire(new.set_profile(_profile("TxProfile")))
    assert profile["evseId"] == 1
    assert profile["chargingProfile"]["transactionId"] == TRANSACTION.station_transaction_id
    assert profile["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] == "A"
    assert _wire(old.reset(hard=False)) == {"type": "Soft"}
    assert _wire(new.reset(hard=False)) == {"type": "OnIdle"}
    assert _wire(new.reset(hard=True)) == {"type": "Immediate"}
    assert _wire(new.unlock(connector_id=1)) == {"evseId": 1, "connectorId": 1}
    assert _wire(new.remote_start("HA01", connector_id=1, remote_start_id=7)) == {
        "idToken": {"idToken": "HA01", "type": "Central"},
        "remoteStartId": 7,
        "evseId": 1,
    }
    assert _wire(new.send_local_list(3, [], full=True)) == {
        "versionNumber": 3,
        "updateType": "Full",
    }
    removal = _wire(
        new.send_local_list(2, [LocalListEntry(id_tag="04BB", status=None)], full=False)
    )
    assert removal["localAuthorizationList"] == [
        {"idToken": {"idToken": "04BB", "type": "ISO14443"}}
    ]
