"""OCPP 2.0.1's statuses in the 1.6 terms the charger state follows (Home Assistant-free)."""

from __future__ import annotations

from typing import Final

from ocpp.v201.enums import AuthorizationStatusEnumType

# The integration decides an id tag with the 1.6 answer; 2.0.1 has its own statuses. An
# unknown card (1.6 has only Invalid for it) is what 2.0.1 calls Unknown.
STATUS_201: Final = {
    "Accepted": AuthorizationStatusEnumType.accepted,
    "Blocked": AuthorizationStatusEnumType.blocked,
    "Expired": AuthorizationStatusEnumType.expired,
    "ConcurrentTx": AuthorizationStatusEnumType.concurrent_tx,
    "Invalid": AuthorizationStatusEnumType.unknown,
}
# A token of this type names nobody: the station charges without authorization.
NO_AUTHORIZATION: Final = "NoAuthorization"


def station_status(
    connector_status: str | None, charging_state: str | None, in_transaction: bool
) -> str | None:
    """The 1.6 connector status the charger state follows, from 2.0.1's two sources.

    2.0.1 reports the connector (Available/Occupied/...) in StatusNotification and what the
    car does (Charging/EVConnected/SuspendedEV/...) in TransactionEvent.
    """
    if connector_status not in (None, "Occupied"):
        return connector_status  # Available, Reserved, Unavailable, Faulted: same names
    if in_transaction:
        if charging_state in ("Charging", "SuspendedEV", "SuspendedEVSE"):
            return charging_state
        return "Preparing"
    if connector_status == "Occupied":
        # A car at the connector and no transaction (yet, or any more).
        return "Finishing" if charging_state is not None else "Preparing"
    return None
