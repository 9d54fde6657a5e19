"""Signed meter values as they arrive from OCPP chargers, without Home Assistant.

Keys are generated here and their expected forms written with `cryptography` directly;
the OCMF texts are built by hand, so nothing expected comes from the module under test.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from custom_components.ev_charging_monitor.central_system.charger import OcppCharger
from custom_components.ev_charging_monitor.central_system.meter_values import parse_meter_values
from custom_components.ev_charging_monitor.central_system.signed import (
    MAX_SIGNED_CHARS,
    MAX_SIGNED_VALUES,
    MeterKeys,
    PublicKeyError,
    SignedMeterValue,
    SignedValue,
    SignedValues,
    from_data_transfer,
    normalize_public_key,
    signed_values_201,
    transfer_refusal,
    unwrap,
)

OCMF = (
    'OCMF|{"FV":"1.0","GI":"ALFEN","PG":"T1","MV":"Carlo Gavazzi","MM":"EM340","MS":"MTR-7",'
    '"RD":[{"TM":"2026-03-01T20:00:00,000+0000 S","TX":"B","RV":1234.0,"RU":"kWh","ST":"G"}]}'
    '|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045"}'
)


def _key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, der


def test_a_key_in_every_printed_form_is_the_same_der_hex() -> None:
    key, der = _key()
    hexed = der.hex()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    grouped = " ".join(hexed[i : i + 4].upper() for i in range(0, len(hexed), 4))
    oca = f"oca:base16:asn1:{hexed}"
    forms = [
        hexed,
        hexed.upper(),
        grouped,  # as printed on a label
        ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2)),
        base64.b64encode(der).decode(),
        pem.decode(),
        json.dumps({"UK": hexed}),  # KEBA
        oca,
        base64.b64encode(oca.encode()).decode(),  # as OCPP's publicKey field carries it
        f"oca:base64:asn1:{base64.b64encode(der).decode()}",
        f"\n  {hexed}\n",
    ]
    for form in forms:
        assert normalize_public_key(form) == hexed, form


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a key",
        "3059301306072a8648ce3d0201",  # a DER prefix, cut off
        "oca:base32:asn1:ABCDEF",
        "oca:base16:asn1:zz",
        '{"UK": 5}',
        '{"no": "UK"}',
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "ab" * 3000,  # over the record's 4096 characters
    ],
)
def test_text_that_is_no_key_is_refused(text: str) -> None:
    with pytest.raises(PublicKeyError):
        normalize_public_key(text)


def test_an_rsa_key_is_refused() -> None:
    der = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(PublicKeyError, match="elliptic"):
        normalize_public_key(der.hex())


def test_ocmf_is_unwrapped_from_every_encoding_to_the_same_text() -> None:
    _, der = _key()
    oca_key = base64.b64encode(f"oca:base16:asn1:{der.hex()}".encode()).decode()
    smv = {
        "signedMeterData": base64.b64encode(OCMF.encode()).decode(),
        "signingMethod": "",
        "encodingMethod": "OCMF",
        "publicKey": oca_key,
    }
    assert unwrap(OCMF) == SignedValue(format="OCMF", data=OCMF)
    assert unwrap(OCMF.encode().hex()) == SignedValue(format="OCMF", data=OCMF)
    assert unwrap(OCMF.encode().hex().upper()) == SignedValue(format="OCMF", data=OCMF)
    assert unwrap(base64.b64encode(OCMF.encode()).decode()) == SignedValue(format="OCMF", data=OCMF)
    assert unwrap(json.dumps(smv)) == SignedValue(format="OCMF", data=OCMF, public_key=der.hex())
    # OCPP 2.0.1's sampledValue.signedMeterValue, as the ocpp library hands it over.
    snake = SignedMeterValue.from_payload(
        {
            "signed_meter_data": base64.b64encode(OCMF.encode()).decode(),
            "signing_method": "ECDSA-secp256r1-SHA256",
            "encoding_method": "OCMF",
            "public_key": "",
        }
    )
    assert snake.signing_method == "ECDSA-secp256r1-SHA256"
    assert snake.unwrap() == SignedValue(format="OCMF", data=OCMF)


def test_other_signed_data_is_kept_verbatim() -> None:
    assert unwrap("garbage|x") == SignedValue(format="SignedData", data="garbage|x")
    # A SignedMeterValueType of another encoding keeps its name and its data.
    edl = SignedMeterValue(signed_meter_data="<?xml ...>", encoding_method="EDL").unwrap()
    assert edl == SignedValue(format="EDL", data="<?xml ...>")
    # A key that does not parse is left out; the value stays.
    odd = SignedMeterValue(signed_meter_data=OCMF, public_key="nonsense").unwrap()
    assert odd == SignedValue(format="OCMF", data=OCMF)
    with pytest.raises(ValueError, match="signedMeterData"):
        SignedMeterValue.from_payload({"encodingMethod": "OCMF"})


def test_data_transfer_shapes() -> None:
    assert from_data_transfer("generalConfiguration", "OCMF", OCMF) == [
        SignedValue(format="OCMF", data=OCMF)
    ]
    wrapped = json.dumps({"transactionId": 5, "ocmf": OCMF})
    assert from_data_transfer("com.vendor", "ocmf", wrapped) == [
        SignedValue(format="OCMF", data=OCMF)
    ]
    several = json.dumps({"signedMeterValues": [OCMF, OCMF.encode().hex()]})
    assert (
        from_data_transfer("x", "SignedMeterValues", several)
        == [SignedValue(format="OCMF", data=OCMF)] * 2
    )
    nested = json.dumps({"signedMeterValue": {"signedMeterData": OCMF, "encodingMethod": "OCMF"}})
    assert from_data_transfer("x", "SignedMeterValue", nested) == [
        SignedValue(format="OCMF", data=OCMF)
    ]
    assert from_data_transfer("x", "OCMF", None) == []
    # Not a shape of signed values: the caller answers UnknownMessageId.
    assert from_data_transfer("EN+", "gatewayInfo", "{}") is None
    assert transfer_refusal("EN+") == "UnknownMessageId"


def test_values_are_stamped_with_the_key_that_verifies_them() -> None:
    _, charger_der = _key()
    _, user_der = _key()
    _, embedded_der = _key()
    signed = SignedValues(keys=MeterKeys())
    signed.add([SignedValue(format="OCMF", data=OCMF)])
    assert signed.set_charger_key(charger_der.hex().upper()) is None
    signed.add([SignedValue(format="OCMF", data=OCMF, public_key=embedded_der.hex())])
    signed.keys.user = user_der.hex()
    signed.add([SignedValue(format="OCMF", data=OCMF, public_key=embedded_der.hex())])
    taken = signed.take()
    # The first value arrived before any key: it gets the key known at the end.
    assert [(item["public_key"], item["key_source"]) for item in taken] == [
        (user_der.hex(), "user"),
        (embedded_der.hex(), "embedded"),
        (user_der.hex(), "user"),
    ]
    assert signed.take() == []
    assert (signed.meter_serial, signed.meter_model) == ("MTR-7", "EM340")


def test_a_key_change_is_told_and_a_bad_key_kept_out() -> None:
    _, first = _key()
    _, second = _key()
    changes: list[tuple[str | None, str | None]] = []
    saves: list[int] = []
    signed = SignedValues()
    signed.on_key_change = lambda old, new: changes.append((old, new))
    signed.on_change = lambda: saves.append(1)
    assert signed.set_charger_key(None) is None
    assert signed.set_charger_key(first.hex()) is None
    assert signed.set_charger_key(base64.b64encode(first).decode()) is None  # the same key
    assert signed.set_charger_key("zzz") is not None
    assert signed.keys.charger == first.hex()
    assert signed.set_charger_key(second.hex()) is None
    assert changes == [(None, first.hex()), (first.hex(), second.hex())]
    assert len(saves) == 2


def test_a_value_over_the_limit_is_a_marked_stand_in_with_its_digest() -> None:
    huge = "OCMF|" + "x" * MAX_SIGNED_CHARS
    signed = SignedValues()
    signed.extend([huge, OCMF])
    omitted, kept = signed.take()
    digest = hashlib.sha256(huge.encode()).hexdigest()
    assert omitted["format"] == "omitted"
    assert digest in omitted["data"]
    assert str(MAX_SIGNED_CHARS + 5) in omitted["data"]
    assert omitted["public_key"] is None
    assert kept["data"] == OCMF


def test_over_the_count_the_first_and_the_newest_stay() -> None:
    signed = SignedValues()
    signed.extend([f"value {n}" for n in range(100)])
    taken = signed.take()
    assert len(taken) == MAX_SIGNED_VALUES == 64
    assert [item["data"] for item in taken] == ["value 0"] + [f"value {n}" for n in range(37, 100)]


def test_garbage_never_raises_and_is_kept_verbatim() -> None:
    deep = "OCMF|" + "[" * 60_000 + "|{}"
    samples = [
        "",
        "OCMF|",
        "OCMF|{|}",
        OCMF[:40],  # truncated
        deep,
        "\udcff",  # a lone surrogate, as a broken decoder may hand over
        "{" * 50_000,
        json.dumps({"signedMeterData": 5}),
    ]
    signed = SignedValues()
    signed.extend(samples)
    taken = signed.take()
    assert [item["data"] for item in taken] == [
        s.strip() if s.startswith("OCMF|") else s for s in samples
    ]
    assert signed.meter_serial is None


def test_survives_a_restart_through_its_plain_json() -> None:
    _, der = _key()
    signed = SignedValues()
    signed.set_charger_key(der.hex())
    signed.extend([OCMF])
    saved = json.loads(json.dumps(signed.to_dict()))
    again = SignedValues()
    again.restore(saved)
    assert again.keys.charger == der.hex()
    assert again.meter_serial == "MTR-7"
    assert again.take() == [
        {"format": "OCMF", "data": OCMF, "public_key": der.hex(), "key_source": "charger"}
    ]
    broken = SignedValues()
    broken.restore({"charger_key": 5, "pending": "x", "meter_serial": None})
    assert (broken.keys.charger, broken.pending) == (None, [])


def test_the_charger_keeps_signed_values_of_meter_values_and_starts_afresh() -> None:
    charger = OcppCharger("CP", authorize=_accept, on_update=lambda: None)
    sample = parse_meter_values(
        [
            {
                "timestamp": "2026-03-01T20:00:00Z",
                "sampled_value": [
                    {"value": OCMF.encode().hex(), "format": "SignedData"},
                    {"value": "1.5", "unit": "kWh"},
                ],
            }
        ]
    )
    charger.set_meter(sample)
    assert charger.values["energy"] == 1500.0
    assert [item["data"] for item in charger.take_signed()] == [OCMF]


async def _accept(_tag: str) -> str:
    return "Accepted"


def test_ocpp_201_meter_values_give_their_signed_values() -> None:
    """TransactionEvent's meterValue as the ocpp library hands it to a 2.0.1 handler."""
    _, der = _key()
    meter_values = [
        {
            "timestamp": "2026-03-01T20:00:00Z",
            "sampled_value": [
                {"value": 1234000.0, "measurand": "Energy.Active.Import.Register"},
                {
                    "value": 1234000.0,
                    "context": "Transaction.Begin",
                    "signed_meter_value": {
                        "signed_meter_data": base64.b64encode(OCMF.encode()).decode(),
                        "signing_method": "",
                        "encoding_method": "OCMF",
                        "public_key": base64.b64encode(
                            f"oca:base16:asn1:{der.hex()}".encode()
                        ).decode(),
                    },
                },
                {"value": 1.0, "signed_meter_value": {"encoding_method": "OCMF"}},  # no data
            ],
        },
        {"timestamp": "2026-03-01T20:01:00Z"},
    ]
    assert signed_values_201(meter_values) == [
        SignedValue(format="OCMF", data=OCMF, public_key=der.hex())
    ]
