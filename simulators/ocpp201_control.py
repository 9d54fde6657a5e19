"""The simulated OCPP 2.0.1 station's side of the central system's requests: its charging
profiles, availability, local list and device model (answered by ocpp201_requests.py).

Tests force answers per action in `forced` ("Rejected", or "NotSupported" and
"NotImplemented" as CALLERRORs), or let the station never answer an action (`silent`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import NotSupportedError
from ocpp.v201.enums import (
    ChargingProfileStatusEnumType,
    ClearChargingProfileStatusEnumType,
    SendLocalListStatusEnumType,
)

from .ocpp_profiles import allowed_power, limit_in_force

EVSE_ID: Final = 1
CONNECTOR_ID: Final = 1
# Measurand lists of SampledDataCtrlr: a list with one the station cannot sample is Rejected.
MEASURAND_LISTS: Final = frozenset(
    {"TxUpdatedMeasurands", "TxStartedMeasurands", "TxEndedMeasurands", "AlignedDataMeasurands"}
)


class StationControl:
    """The station's state the central system's requests change (`init_control`)."""

    # The rate units its profiles may have (a profile in another unit is Rejected).
    rate_units: ClassVar[tuple[str, ...]] = ("A", "W")
    phases: ClassVar[int] = 3
    voltage: ClassVar[float] = 230.0
    # What its meter can sample.
    measurands: ClassVar[frozenset[str]] = frozenset(
        {
            "Energy.Active.Import.Register",
            "Power.Active.Import",
            "Current.Import",
            "Voltage",
            "Current.Offered",
            "Power.Offered",
            "SoC",
        }
    )

    if TYPE_CHECKING:  # the station's own
        components: ClassVar[frozenset[str]]
        at: datetime
        transaction_id: str | None
        variables: dict[str, str]

    def init_control(self) -> None:
        """As it leaves the factory."""
        # Answers forced per action, e.g. {"SetChargingProfile": "Rejected"}.
        self.forced: dict[str, str] = {}
        # Actions it never answers (the central system's wait times out).
        self.silent: set[str] = set()
        # Every request it got, by action, in order.
        self.commands: list[str] = []
        # Charging profiles by id: purpose, evse id, transaction id, limit, unit.
        self.profiles: dict[int, dict[str, Any]] = {}
        # What the car would draw after a remote start.
        self.car_power_w: float = 11_000
        self.remote_starts: list[dict[str, Any]] = []
        self.resets: list[str] = []
        self.unlocks = 0
        self.available = True
        # A reset waiting for the transaction's end (OnIdle while one ran).
        self.reset_scheduled = False
        self.local_list: dict[str, dict[str, Any]] = {}
        self.local_list_version = 0
        # (updateType, versionNumber, entries) of every list it took.
        self.local_list_updates: list[tuple[str, int, int]] = []
        # A remote start it accepted but has not begun yet (the driver still plugs in).
        self.defer_remote_start = False
        self.pending_remote_start: tuple[dict[str, Any], int] | None = None
        # AuthCtrlr.OfflineTxForUnknownIdEnabled: an unlisted card charges while offline.
        self.offline_tx_for_unknown_id = True

    def answer(self, action: str, statuses: type[StrEnum], default: str = "Accepted") -> str:
        """The status to answer `action` with; a forced CALLERROR is raised."""
        self.commands.append(action)
        status = self.forced.get(action, default)
        if status == "NotImplemented":
            raise OcppNotImplementedError(f"{action} is not implemented")  # type: ignore[no-untyped-call]
        if status not in {str(member) for member in statuses}:
            raise NotSupportedError(f"{action} is not supported by this station")  # type: ignore[no-untyped-call]
        return status

    # -- charging profiles ---------------------------------------------------------------

    def current_limit(self) -> float | None:
        """The limit in force in A: the transaction's own profile, else the default one."""
        return limit_in_force(
            self.profiles.values(), self.transaction_id, self.voltage * self.phases
        )

    def offered_power(self, power_w: float) -> float:
        """What the car draws when it would take `power_w`: at most the limit allows."""
        return allowed_power(power_w, self.current_limit(), self.voltage * self.phases)

    def take_profile(self, evse_id: int, profile: dict[str, Any]) -> str:
        """SetChargingProfile: kept by id unless refused (K01)."""
        status = self.answer("SetChargingProfile", ChargingProfileStatusEnumType)
        purpose = profile["charging_profile_purpose"]
        (schedule,) = profile["charging_schedule"]
        if evse_id not in (0, EVSE_ID):
            return "Rejected"  # no such EVSE
        if purpose == "TxProfile" and (
            evse_id == 0
            or self.transaction_id is None
            or profile.get("transaction_id") != self.transaction_id
        ):
            return "Rejected"  # K01.FR.03, .09, .16: the running transaction's EVSE only
        if schedule["charging_rate_unit"] not in self.rate_units:
            return "Rejected"
        if status == "Accepted":
            (period,) = schedule["charging_schedule_period"]
            self.profiles[int(profile["id"])] = {
                "purpose": purpose,
                "evse_id": evse_id,
                "transaction_id": profile.get("transaction_id"),
                "limit": float(period["limit"]),
                "unit": schedule["charging_rate_unit"],
            }
        return status

    def clear_profile(self, profile_id: int | None) -> str:
        """ClearChargingProfile by id (all without one); Unknown when there was none."""
        status = self.answer("ClearChargingProfile", ClearChargingProfileStatusEnumType)
        if status != "Accepted":
            return status
        if profile_id is None:
            cleared = bool(self.profiles)
            self.profiles.clear()
        else:
            cleared = self.profiles.pop(profile_id, None) is not None
        return "Accepted" if cleared else "Unknown"

    # -- local list ----------------------------------------------------------------------

    def take_local_list(self, version: int, update_type: str, entries: list[dict[str, Any]]) -> str:
        """SendLocalList: Full replaces, Differential changes (a later version only)."""
        status = self.answer("SendLocalList", SendLocalListStatusEnumType)
        if status != "Accepted":
            return status
        if update_type == "Differential" and version <= self.local_list_version:
            return "VersionMismatch"
        if update_type == "Full":
            self.local_list = {}
        for entry in entries:
            token = str(entry["id_token"]["id_token"]).upper()
            if entry.get("id_token_info") is None:
                self.local_list.pop(token, None)
            else:
                self.local_list[token] = dict(entry["id_token_info"])
        self.local_list_version = version
        self.local_list_updates.append((update_type, version, len(entries)))
        return "Accepted"

    def decide_offline(self, token: str) -> str:
        """A card while the central system is away: the local list's status, if valid; a
        card it does not list as the station is configured (OfflineTxForUnknownIdEnabled)."""
        info = self.local_list.get(token.upper())
        if info is None:
            return "Accepted" if self.offline_tx_for_unknown_id else "Unknown"
        status = str(info["status"])
        expiry = info.get("cache_expiry_date_time")
        if status == "Accepted" and expiry and datetime.fromisoformat(expiry) <= self.at:
            return "Expired"
        return status

    # -- device model --------------------------------------------------------------------

    def set_variable(self, component: str, variable: str, value: str) -> str:
        """One SetVariables item: Accepted, or why not."""
        if component not in self.components:
            return "UnknownComponent"
        if variable in MEASURAND_LISTS and not set(value.split(",")) <= self.measurands:
            return "Rejected"
        self.variables[f"{component}.{variable}"] = value
        return "Accepted"
