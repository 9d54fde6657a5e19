"""Evidence of OCPP chargers' signed values: formats the ledger cannot check, values Home
Assistant could not keep, and whose meter the signed values name."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from ev_charging_ledger.evidence import classify
from ev_charging_ledger.records import session_facts
from tests.ledger.integration_records import make_record

from .test_evidence import _payload, _sign

OMITTED = (
    "OCMF value of 70100 characters is over the record's limit of 65536; SHA-256 "
    "9f5bbcef632f0def61dd586124c49d8c2078506cf0225de78cd7446b33501078"
)


def _grade(values: list[dict[str, Any]], **changes: Any) -> tuple[str, dict[str, Any] | None]:
    evidence = classify(session_facts(make_record(1, signed_meter_values=values, **changes)))
    return evidence.evidence_class, evidence.ocmf


def test_signed_data_the_ledger_cannot_check_is_named_and_proves_nothing() -> None:
    grade, ocmf = _grade([{"format": "EDL", "data": "<xml/>", "public_key": None}], mid=True)
    assert grade == "mid_meter"
    assert ocmf is not None
    assert ocmf["valid"] is False
    assert ocmf["problems"] == ["signed value 0 is in format 'EDL', which the ledger cannot verify"]


def test_a_value_home_assistant_could_not_keep_is_named() -> None:
    omitted = {"format": "omitted", "data": OMITTED, "public_key": None, "key_source": None}
    grade, ocmf = _grade([omitted])
    assert grade == "non_mid_meter"
    assert ocmf is not None
    assert ocmf["problems"] == [f"signed value 0 was not kept by Home Assistant: {OMITTED}"]
    # Beside a begin-and-end record that verifies, the session is still proven; the lost
    # value is told.
    data, key = _sign(_payload(), ec.SECP256R1())
    grade, ocmf = _grade([omitted, {"format": "OCMF", "data": data, "public_key": key}])
    assert grade == "signed_ocmf"
    assert ocmf is not None
    assert ocmf["problems"] == [f"signed value 0 was not kept by Home Assistant: {OMITTED}"]


def test_the_signed_meter_identity_must_be_the_sessions_meter() -> None:
    """MTR-42 signed (the payload's MS). Home Assistant names the signing meter for a
    charger's own meter; another name means another meter measured the session."""
    data, key = _sign(_payload(), ec.SECP256R1())
    value = {"format": "OCMF", "data": data, "public_key": key, "key_source": "charger"}
    record = make_record(1, signed_meter_values=[value])
    record["meter"]["serial"] = "MTR-42"
    assert classify(session_facts(record)).evidence_class == "signed_ocmf"
    record["meter"]["serial"] = " MTR-42 "  # padding is no other meter
    assert classify(session_facts(record)).evidence_class == "signed_ocmf"
    record["meter"]["serial"] = "EXT-7"
    evidence = classify(session_facts(record))
    assert evidence.evidence_class == "non_mid_meter"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == [
        "signed by meter MTR-42, but the session names meter EXT-7: the signed values do "
        "not prove this session's energy"
    ]
