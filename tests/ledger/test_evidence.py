"""OCMF verification and evidence classes, with records signed here by a real key."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ev_charging_ledger.evidence import classify
from ev_charging_ledger.ocmf import verify_session
from ev_charging_ledger.records import session_facts
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

# Session of make_record(1): meter 1,000,000 Wh -> 1,007,400 Wh, i.e. 1000.00 -> 1007.40 kWh.
PAYLOAD = (
    '{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"T32","MV":"Phoenix",'
    '"MM":"EEM-350-D-MCB","MS":"MTR-42","IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN"],'
    '"IT":"ISO14443","ID":"1F2D3A4B","RD":['
    '{"TM":"2026-03-01T20:00:00,000+0100 S","TX":"B","RV":{rv_begin},"RI":"1-b:1.8.0",'
    '"RU":"kWh","RT":"AC","EF":"","ST":"G"},'
    '{"TM":"2026-03-01T21:30:00,000+0100 S","TX":"E","RV":{rv_end},"RI":"1-b:1.8.0",'
    '"RU":"kWh","RT":"AC","EF":"","ST":"{status}"}]}'
)


def _payload(rv_begin: str = "1000.00", rv_end: str = "1007.40", status: str = "G") -> str:
    return (
        PAYLOAD.replace("{rv_begin}", rv_begin)
        .replace("{rv_end}", rv_end)
        .replace("{status}", status)
    )


def _sign(
    payload: str,
    curve: ec.EllipticCurve,
    algorithm: str = "ECDSA-secp256r1-SHA256",
    encoding: str = "hex",
) -> tuple[str, str]:
    key = ec.generate_private_key(curve)
    signature = key.sign(payload.encode(), ec.ECDSA(hashes.SHA256()))
    encoded = signature.hex() if encoding == "hex" else base64.b64encode(signature).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sig_section = f'{{"SA":"{algorithm}","SE":"{encoding}","SD":"{encoded}"}}'
    return f"OCMF|{payload}|{sig_section}", public.hex()


def _record(ocmf: str, public_key: str, **kwargs: Any) -> dict[str, Any]:
    return make_record(
        1,
        signed_meter_values=[{"format": "OCMF", "data": ocmf, "public_key": public_key}],
        **kwargs,
    )


@pytest.mark.parametrize(
    ("curve", "algorithm", "encoding"),
    [
        (ec.SECP256R1(), "ECDSA-secp256r1-SHA256", "hex"),
        (ec.SECP256R1(), "ECDSA-secp256r1-SHA256", "base64"),
        (ec.BrainpoolP384R1(), "ECDSA-brainpool384r1-SHA256", "hex"),
    ],
)
def test_signed_ocmf_verifies(curve: ec.EllipticCurve, algorithm: str, encoding: str) -> None:
    ocmf, key = _sign(_payload(), curve, algorithm, encoding)
    evidence = classify(session_facts(_record(ocmf, key)))
    assert evidence.evidence_class == "signed_ocmf"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == []
    assert (evidence.ocmf["begin_wh"], evidence.ocmf["end_wh"]) == ("1000000.00", "1007400.00")


def test_keba_wrapped_public_key_is_accepted() -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    evidence = classify(session_facts(_record(ocmf, f'{{"UK":"{key}"}}')))
    assert evidence.evidence_class == "signed_ocmf"


def test_tampered_payload_fails_and_falls_back_to_the_meter_class() -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    # One digit changed after signing; the session itself still says 7400 Wh.
    tampered = ocmf.replace('"RV":1007.40', '"RV":1007.90')
    assert tampered != ocmf
    evidence = classify(session_facts(_record(tampered, key)))
    # The integration sends mid: null, so without the signature it is a plain register.
    assert evidence.evidence_class == "non_mid_meter"
    assert evidence.ocmf is not None
    assert evidence.ocmf["signature_valid"] is False
    assert "signature does not match the payload" in evidence.ocmf["problems"][0]


def test_whitespace_in_the_payload_counts_as_tampering() -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    reformatted = ocmf.replace('"FV":"1.0"', '"FV": "1.0"', 1)
    result = verify_session([{"format": "OCMF", "data": reformatted, "public_key": key}])
    assert result is not None
    assert result.signature_valid is False


def test_meter_status_other_than_g_fails_the_transaction_check() -> None:
    ocmf, key = _sign(_payload(status="M"), ec.SECP256R1())
    evidence = classify(session_facts(_record(ocmf, key, mid=False)))
    assert evidence.evidence_class == "non_mid_meter"
    assert evidence.ocmf is not None
    assert evidence.ocmf["signature_valid"] is True
    assert evidence.ocmf["problems"] == ["end meter status is 'M', not 'G'"]


def test_signed_energy_must_match_the_session() -> None:
    # A valid signature over 1000.00 -> 1005.00 kWh (5000 Wh) on a 7400 Wh session.
    ocmf, key = _sign(_payload(rv_end="1005.00"), ec.SECP256R1())
    evidence = classify(session_facts(_record(ocmf, key, mid=True)))
    assert evidence.evidence_class == "mid_meter"
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == [
        "signed energy 5000.00 Wh differs from the session's 7400 Wh"
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"mid": True}, "mid_meter"),
        ({"mid": False}, "non_mid_meter"),
        ({"mid": None}, "non_mid_meter"),
        ({"mid": True, "flags": ["estimated"]}, "estimate"),
        ({"mid": True, "flags": ["plug_cycle_unseen", "swap_time_unknown"]}, "estimate"),
        ({"mid": True, "flags": ["plug_cycle_unseen"]}, "mid_meter"),
    ],
)
def test_evidence_class_without_ocmf(changes: dict[str, Any], expected: str) -> None:
    assert classify(session_facts(make_record(1, **changes))).evidence_class == expected


def test_session_without_registers_is_an_estimate() -> None:
    record = make_record(1)
    record["meter_start_wh"] = record["meter_end_wh"] = None
    assert classify(session_facts(record)).evidence_class == "estimate"


def test_ocmf_is_stored_byte_for_byte(ledger: Ledger) -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    record = _record(ocmf, key)
    ledger.append_sessions([record])
    detail = ledger.session(record["id"])
    assert detail is not None
    assert detail.record["signed_meter_values"][0]["data"] == ocmf
    assert detail.summary.evidence_class == "signed_ocmf"


# A transaction signed as two records (begin, end), as meters that sign each reading do.
_PART = (
    '{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"{page}","MV":"Phoenix",'
    '"MM":"EEM-350-D-MCB","MS":"MTR-42","IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN"],'
    '"IT":"ISO14443","ID":"1F2D3A4B","RD":['
    '{"TM":"{time}","TX":"{kind}","RV":{value},"RI":"1-b:1.8.0",'
    '"RU":"kWh","RT":"AC","EF":"","ST":"G"}]}'
)


def _two_records(begin_page: str, end_page: str) -> list[dict[str, Any]]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        .hex()
    )
    values = []
    for page, time, kind, value in (
        (begin_page, "2026-03-01T20:00:00,000+0100 S", "B", "1000.00"),
        (end_page, "2026-03-01T21:30:00,000+0100 S", "E", "1007.40"),
    ):
        payload = (
            _PART.replace("{page}", page)
            .replace("{time}", time)
            .replace("{kind}", kind)
            .replace("{value}", value)
        )
        signature = key.sign(payload.encode(), ec.ECDSA(hashes.SHA256())).hex()
        data = f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{signature}"}}'
        values.append({"format": "OCMF", "data": data, "public_key": public})
    return values


def test_consecutive_pagination_across_records_is_a_transaction() -> None:
    facts = session_facts(make_record(1, signed_meter_values=_two_records("T130", "T131")))
    evidence = classify(facts)
    assert evidence.ocmf is not None
    assert evidence.ocmf["problems"] == []
    assert evidence.evidence_class == "signed_ocmf"


@pytest.mark.parametrize(
    ("pages", "problem"),
    [
        (("T130", "T132"), "pagination is not consecutive: T130 -> T132"),
        (("T134", "T133"), "pagination is not consecutive: T134 -> T133"),
        (("T130", "T130"), "pagination is not consecutive: T130 -> T130"),
        (("T130", "F131"), "pagination is not consecutive: T130 -> F131"),
        (("T130", "Tx"), "record 1: pagination 'Tx' is not a counter"),
    ],
)
def test_broken_pagination_fails_the_transaction(pages: tuple[str, str], problem: str) -> None:
    facts = session_facts(make_record(1, signed_meter_values=_two_records(*pages)))
    evidence = classify(facts)
    assert evidence.ocmf is not None
    assert evidence.ocmf["signature_valid"] is True
    assert evidence.ocmf["problems"] == [problem]
    assert evidence.evidence_class == "non_mid_meter"


def test_deeply_nested_ocmf_is_refused_before_parsing() -> None:
    deep = "OCMF|" + "[" * 100_000 + "]" * 100_000 + "|{}"
    result = verify_session([{"format": "OCMF", "data": deep, "public_key": None}])
    assert result is not None
    assert result.problems == ["record 0: OCMF record is larger than 64 KB"]
    shallow = "OCMF|" + "{" * 40 + "}" * 40 + "|{}"
    result = verify_session([{"format": "OCMF", "data": shallow, "public_key": None}])
    assert result is not None
    assert result.problems == ["record 0: OCMF JSON is nested deeper than 32 levels"]


def test_ocmf_with_a_bracket_inside_a_string_is_not_counted_as_nesting() -> None:
    text = "OCMF|" + '{"X":"' + "[" * 100 + '\\"' + '"}' + "|{}"
    result = verify_session([{"format": "OCMF", "data": text, "public_key": None}])
    assert result is not None
    assert "nested" not in " ".join(result.problems)


def test_unexpected_ocmf_content_never_stops_the_session(ledger: Ledger) -> None:
    record = make_record(1)
    # A public key that is not text reaches deep into the verifier.
    record["signed_meter_values"] = [{"format": "OCMF", "data": "OCMF|{}|{}", "public_key": 5}]
    facts = session_facts(record)
    evidence = classify(facts)
    assert evidence.evidence_class == "non_mid_meter"
    assert evidence.ocmf is not None
    assert evidence.ocmf["valid"] is False
