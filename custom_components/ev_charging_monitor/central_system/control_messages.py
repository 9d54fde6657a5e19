"""What a command says, whatever the OCPP version; each version's module words it.

The decisions (which profiles, when a refusal is an error, when the whole local list goes
again) are made once, in control.py; `Messages` only turns them into the requests of one
OCPP version and reads that version's answers (messages_16.py, messages_201.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .transactions import OpenTransaction

type Purpose = Literal["TxDefaultProfile", "TxProfile"]
type Unit = Literal["A", "W"]


@dataclass(frozen=True, kw_only=True)
class LocalListEntry:
    """One id tag of a local authorization list; no status removes it (differential)."""

    id_tag: str
    status: str | None
    expiry_date: str | None = None


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One charging profile of the integration: a constant limit from `start` on."""

    profile_id: int
    stack_level: int
    purpose: Purpose
    unit: Unit
    limit: float
    start: str  # ISO 8601 UTC
    connector_id: int  # 0: every connector (1.6 connector, 2.0.1 EVSE)
    transaction: OpenTransaction | None = None


class Messages(Protocol):
    """The requests of one OCPP version, and how its answers read."""

    # What this version calls the commands 1.6 names (the errors name the version's own).
    renamed: dict[str, str]

    def set_profile(self, profile: Profile) -> Any:
        """SetChargingProfile."""

    def clear_profile(self, profile_id: int) -> Any:
        """ClearChargingProfile of one of ours."""

    def remote_start(self, id_tag: str, *, connector_id: int, remote_start_id: int) -> Any:
        """RemoteStartTransaction (1.6) or RequestStartTransaction (2.0.1)."""

    def remote_stop(self, transaction: OpenTransaction) -> Any:
        """RemoteStopTransaction (1.6) or RequestStopTransaction (2.0.1)."""

    def reset(self, *, hard: bool) -> Any:
        """Reset: 1.6 Soft/Hard, 2.0.1 OnIdle/Immediate."""

    def unlock(self, *, connector_id: int) -> Any:
        """UnlockConnector."""

    def change_availability(self, *, operative: bool) -> Any:
        """ChangeAvailability of the whole charger."""

    def get_local_list_version(self) -> Any:
        """GetLocalListVersion."""

    def local_list_version(self, result: Any) -> int:
        """The version in GetLocalListVersion's answer."""

    def send_local_list(
        self, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> Any:
        """SendLocalList."""
