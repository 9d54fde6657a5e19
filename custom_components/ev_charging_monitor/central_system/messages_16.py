"""The control commands in OCPP 1.6 (control_messages.py says what each one means)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocpp.v16 import call
from ocpp.v16.datatypes import (
    AuthorizationData,
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    IdTagInfo,
)
from ocpp.v16.enums import (
    AuthorizationStatus,
    AvailabilityType,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ResetType,
    UpdateType,
)

from .control_messages import LocalListEntry, Profile
from .transactions import OpenTransaction


class Ocpp16Messages:
    """OCPP 1.6: connectors, integer transaction ids, idTag strings."""

    renamed: dict[str, str] = {}

    def set_profile(self, profile: Profile) -> Any:
        """SetChargingProfile on the connector (0: every connector)."""
        transaction = profile.transaction
        return call.SetChargingProfile(
            connector_id=profile.connector_id,
            cs_charging_profiles=ChargingProfile(
                charging_profile_id=profile.profile_id,
                stack_level=profile.stack_level,
                charging_profile_purpose=ChargingProfilePurposeType(profile.purpose),
                charging_profile_kind=ChargingProfileKindType.absolute,
                transaction_id=None if transaction is None else transaction.transaction_id,
                charging_schedule=ChargingSchedule(
                    charging_rate_unit=ChargingRateUnitType(profile.unit),
                    charging_schedule_period=[
                        ChargingSchedulePeriod(start_period=0, limit=profile.limit)
                    ],
                    start_schedule=profile.start,
                ),
            ),
        )

    def clear_profile(self, profile_id: int) -> Any:
        """ClearChargingProfile by id."""
        return call.ClearChargingProfile(id=profile_id)

    def remote_start(self, id_tag: str, *, connector_id: int, remote_start_id: int) -> Any:
        """RemoteStartTransaction (1.6 has no remote start id)."""
        return call.RemoteStartTransaction(id_tag=id_tag, connector_id=connector_id)

    def remote_stop(self, transaction: OpenTransaction) -> Any:
        """RemoteStopTransaction of the id the central system gave."""
        return call.RemoteStopTransaction(transaction_id=transaction.transaction_id)

    def reset(self, *, hard: bool) -> Any:
        """Reset Soft (the charger ends its transaction first) or Hard."""
        return call.Reset(type=ResetType.hard if hard else ResetType.soft)

    def unlock(self, *, connector_id: int) -> Any:
        """UnlockConnector."""
        return call.UnlockConnector(connector_id=connector_id)

    def change_availability(self, *, operative: bool) -> Any:
        """ChangeAvailability of connector 0, the whole charger."""
        kind = AvailabilityType.operative if operative else AvailabilityType.inoperative
        return call.ChangeAvailability(connector_id=0, type=kind)

    def get_local_list_version(self) -> Any:
        """GetLocalListVersion."""
        return call.GetLocalListVersion()

    def local_list_version(self, result: Any) -> int:
        """listVersion."""
        return int(result.list_version)

    def send_local_list(
        self, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> Any:
        """SendLocalList of idTags with their idTagInfo (none: removed)."""
        return call.SendLocalList(
            list_version=version,
            update_type=UpdateType.full if full else UpdateType.differential,
            local_authorization_list=[
                AuthorizationData(
                    id_tag=entry.id_tag,
                    id_tag_info=None
                    if entry.status is None
                    else IdTagInfo(
                        status=AuthorizationStatus(entry.status), expiry_date=entry.expiry_date
                    ),
                )
                for entry in entries
            ],
        )
