"""The charging profiles a simulated OCPP charger holds, as its power electronics obey them
(the same in OCPP 1.6 and 2.0.1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def limit_in_force(
    profiles: Iterable[dict[str, Any]], transaction_id: object, watts_per_amp: float
) -> float | None:
    """The limit in A: the running transaction's own profile, else the default one."""
    by_purpose = {
        profile["purpose"]: profile["limit"] / (1 if profile["unit"] == "A" else watts_per_amp)
        for profile in profiles
        if profile["purpose"] != "TxProfile" or profile["transaction_id"] == transaction_id
    }
    return by_purpose.get("TxProfile", by_purpose.get("TxDefaultProfile"))


def allowed_power(power_w: float, limit_a: float | None, watts_per_amp: float) -> float:
    """What the car draws when it would take `power_w`: at most the limit allows."""
    return power_w if limit_a is None else min(power_w, limit_a * watts_per_amp)
