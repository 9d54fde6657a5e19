"""The control commands in OCPP 2.0.1 (control_messages.py says what each one means).

2.0.1 names an EVSE where 1.6 names a connector (one EVSE with one connector here), uses
the station's own transaction id (a string), and an idToken with its type: the cards of a
local list are ISO 14443 cards, a remote start's token is the central system's own
(`Central`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ocpp.v201 import call
from ocpp.v201.datatypes import (
    AuthorizationData,
    ChargingProfileType,
    ChargingSchedulePeriodType,
    ChargingScheduleType,
    IdTokenInfoType,
    IdTokenType,
)
from ocpp.v201.enums import (
    AuthorizationStatusEnumType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingRateUnitEnumType,
    IdTokenEnumType,
    OperationalStatusEnumType,
    ResetEnumType,
    UpdateEnumType,
)

from .control_messages import LocalListEntry, Profile
from .transactions import OpenTransaction

# The connector of the EVSE (one connector per EVSE, as 1.6's connector 1).
CONNECTOR_ID: Final = 1


class Ocpp201Messages:
    """OCPP 2.0.1: EVSEs, the station's transaction ids, typed idTokens."""

    renamed: dict[str, str] = {
        "RemoteStartTransaction": "RequestStartTransaction",
        "RemoteStopTransaction": "RequestStopTransaction",
    }

    def set_profile(self, profile: Profile) -> Any:
        """SetChargingProfile on the EVSE (0: the whole station, every EVSE).

        A TxProfile names the station's transaction id (K01.FR.03); the schedule has the
        profile's id, as 2.0.1 asks of every schedule.
        """
        transaction = profile.transaction
        return call.SetChargingProfile(
            evse_id=profile.connector_id,
            charging_profile=ChargingProfileType(
                id=profile.profile_id,
                stack_level=profile.stack_level,
                charging_profile_purpose=ChargingProfilePurposeEnumType(profile.purpose),
                charging_profile_kind=ChargingProfileKindEnumType.absolute,
                transaction_id=None if transaction is None else transaction.station_transaction_id,
                charging_schedule=[
                    ChargingScheduleType(
                        id=profile.profile_id,
                        charging_rate_unit=ChargingRateUnitEnumType(profile.unit),
                        charging_schedule_period=[
                            ChargingSchedulePeriodType(start_period=0, limit=profile.limit)
                        ],
                        start_schedule=profile.start,
                    )
                ],
            ),
        )

    def clear_profile(self, profile_id: int) -> Any:
        """ClearChargingProfile by id."""
        return call.ClearChargingProfile(charging_profile_id=profile_id)

    def remote_start(self, id_tag: str, *, connector_id: int, remote_start_id: int) -> Any:
        """RequestStartTransaction with the central system's token on the EVSE."""
        return call.RequestStartTransaction(
            id_token=IdTokenType(id_token=id_tag, type=IdTokenEnumType.central),
            remote_start_id=remote_start_id,
            evse_id=connector_id,
        )

    def remote_stop(self, transaction: OpenTransaction) -> Any:
        """RequestStopTransaction of the station's transaction id."""
        assert transaction.station_transaction_id is not None
        return call.RequestStopTransaction(transaction_id=transaction.station_transaction_id)

    def reset(self, *, hard: bool) -> Any:
        """Reset OnIdle (after the transaction: Scheduled) or Immediate (ends it)."""
        return call.Reset(type=ResetEnumType.immediate if hard else ResetEnumType.on_idle)

    def unlock(self, *, connector_id: int) -> Any:
        """UnlockConnector of the EVSE's connector."""
        return call.UnlockConnector(evse_id=connector_id, connector_id=CONNECTOR_ID)

    def change_availability(self, *, operative: bool) -> Any:
        """ChangeAvailability of the whole station (no evse)."""
        status = (
            OperationalStatusEnumType.operative
            if operative
            else OperationalStatusEnumType.inoperative
        )
        return call.ChangeAvailability(operational_status=status)

    def get_local_list_version(self) -> Any:
        """GetLocalListVersion."""
        return call.GetLocalListVersion()

    def local_list_version(self, result: Any) -> int:
        """versionNumber."""
        return int(result.version_number)

    def send_local_list(
        self, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> Any:
        """SendLocalList of ISO 14443 idTokens with their idTokenInfo (none: removed)."""
        return call.SendLocalList(
            version_number=version,
            update_type=UpdateEnumType.full if full else UpdateEnumType.differential,
            # 2.0.1 wants no list rather than an empty one (an empty Full list clears).
            local_authorization_list=[
                AuthorizationData(
                    id_token=IdTokenType(id_token=entry.id_tag, type=IdTokenEnumType.iso14443),
                    id_token_info=None
                    if entry.status is None
                    else IdTokenInfoType(
                        status=AuthorizationStatusEnumType(entry.status),
                        cache_expiry_date_time=entry.expiry_date,
                    ),
                )
                for entry in entries
            ]
            or None,
        )
