"""Evidence classes: how well a session's energy is proven.

The employer's policy decides which class it accepts (reimbursement.md section 1.1), so
the ledger records the class per session instead of accepting or rejecting sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import ocmf
from .records import (
    EVIDENCE_ESTIMATE,
    EVIDENCE_MID_METER,
    EVIDENCE_NON_MID_METER,
    EVIDENCE_SIGNED_OCMF,
    SessionFacts,
)

# Flags that mean the energy is not a clean register difference. `swap_time_unknown`: a car
# was swapped while nobody watched and the charger offered nothing to place the split.
_ESTIMATE_FLAGS = frozenset(
    {"estimated", "interpolated", "meter_reset", "meter_discrepancy", "swap_time_unknown"}
)
# OCMF registers are given with 2 decimals in kWh by common meters: 10 Wh granularity.
_OCMF_TOLERANCE_WH = Decimal(10)

LABELS = {
    EVIDENCE_SIGNED_OCMF: "Signed meter values (OCMF), verified",
    EVIDENCE_MID_METER: "MID-certified meter register",
    EVIDENCE_NON_MID_METER: "Meter register (not MID-certified)",
    EVIDENCE_ESTIMATE: "Estimate",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    evidence_class: str
    ocmf: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {"class": self.evidence_class, "ocmf": self.ocmf}


def classify(facts: SessionFacts) -> Evidence:
    try:
        verification = ocmf.verify_session(facts.signed_meter_values)
    except Exception as err:
        # Evidence grades a stored session; no content of a signed value may stop the
        # session itself from being stored.
        verification = ocmf.Verification(problems=[f"signed values cannot be checked: {err!r}"])
    if verification is not None:
        _compare_with_session(verification, facts)
    has_register = facts.meter_start_wh is not None and facts.meter_end_wh is not None
    if verification is not None and verification.valid:
        evidence_class = EVIDENCE_SIGNED_OCMF
    elif not has_register or _ESTIMATE_FLAGS.intersection(facts.flags):
        evidence_class = EVIDENCE_ESTIMATE
    elif facts.meter_mid is True:
        evidence_class = EVIDENCE_MID_METER
    else:
        evidence_class = EVIDENCE_NON_MID_METER
    return Evidence(evidence_class, None if verification is None else verification.as_json())


def _compare_with_session(verification: ocmf.Verification, facts: SessionFacts) -> None:
    """Signed values that disagree with the session's own energy do not prove it."""
    if verification.begin_wh is None or verification.end_wh is None:
        return
    signed_energy = verification.end_wh - verification.begin_wh
    if abs(signed_energy - facts.energy_wh) > _OCMF_TOLERANCE_WH:
        verification.problems.append(
            f"signed energy {signed_energy} Wh differs from the session's {facts.energy_wh} Wh"
        )
        verification.transaction_valid = False
    # The meter identity inside the signed data (OCMF MS) is the evidence's; the record's
    # meter.serial is unsigned. Home Assistant names the signing meter for a charger's own
    # meter, so a different serial means the session was measured by another meter (an
    # external one) or the record was changed: the signed values do not prove its energy.
    if (
        verification.meter_serial
        and facts.meter_serial
        and verification.meter_serial.strip() != facts.meter_serial.strip()
    ):
        verification.problems.append(
            f"signed by meter {verification.meter_serial}, but the session names meter "
            f"{facts.meter_serial}: the signed values do not prove this session's energy"
        )
        verification.transaction_valid = False
