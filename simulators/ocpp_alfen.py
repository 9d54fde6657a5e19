"""A simulated Alfen Eve with an Eichrecht meter (OCPP 1.6J).

Energy in kWh, signed OCMF records (begin in MeterValues, end in StopTransaction's
transactionData or a DataTransfer, also one sent seconds after StopTransaction) and meter
values outside transactions with transaction id 2^63-1. The signed-value options reproduce
what real chargers differ in and what goes wrong on the way (tampering, other wrappings,
garbage). A double charger has a meter and a public key per connector (MeterPublicKey1,
MeterPublicKey2, ...); it charges on connector 1, whose meter signs with `key`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call

from .ocmf_signing import ocmf_reading, signed_ocmf
from .ocpp_charger import GenericOcpp16Charger
from .ocpp_link import stamp

ALFEN_IDLE_TRANSACTION = 2**63 - 1


@dataclass
class AlfenEveOcpp(GenericOcpp16Charger):
    """An Alfen Eve Pro-line with an Eichrecht meter, as far as its OCPP quirks are known."""

    serial: str = "ACE0123456"
    firmware: str = "5.8.1-4123"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    sent_ocmf: list[str] = field(default_factory=list)
    meter_serial: str | None = "EM340-SIM"
    meter_type: str | None = "Carlo Gavazzi EM340"
    # Signed-value options (what real chargers differ in, and what goes wrong on the way).
    # Flip a digit of the end register in the payload after signing it.
    tamper: bool = False
    # The meter serial inside the OCMF (MS), when it differs from the boot message's.
    ocmf_meter_serial: str | None = None
    # Whether GetConfiguration reports MeterPublicKey1.
    publish_key: bool = True
    # How the value is wrapped: "plain" OCMF text, "hex" (OCPP 1.6 SignedData), or "oca"
    # (the OCA note's SignedMeterValueType JSON with base64 data and key).
    signed_encoding: str = "plain"
    # Where the end record goes: "stop" (StopTransaction's transactionData),
    # "data_transfer" (a DataTransfer just before StopTransaction) or "after_stop" (signed
    # at the stop, sent in a DataTransfer when `send_signed_end` says so, as some Alfen
    # firmwares do seconds after StopTransaction).
    ocmf_via: str = "stop"
    # A signed begin record in MeterValues right after StartTransaction, and the end
    # record with the end reading only (separate records, consecutive pagination).
    signed_begin: bool = False
    # Turns the wrapped value into what is sent instead (garbage, truncation, size).
    mangle: Callable[[str], str] | None = None

    # How many connectors (each with its own meter and key, MeterPublicKey<n>) it has;
    # connector 1's meter signs with `key`, the others with `other_meter_keys`.
    connectors: int = 1
    other_meter_keys: dict[int, ec.EllipticCurvePrivateKey] = field(default_factory=dict)
    # The end record signed at the stop, until `send_signed_end` sends it.
    signed_end: str | None = None

    vendor: ClassVar[str] = "Alfen BV"
    model: ClassVar[str] = "NG910-60023"
    energy_unit: ClassVar[str] = "kWh"

    @property
    def public_key_hex(self) -> str:
        """The meter's public key (DER, hex) as printed on its label."""
        return _der_hex(self.key)

    def configuration(self) -> dict[str, str]:
        """With the meters' public keys, as the OCA application note names them."""
        if not self.publish_key:
            return super().configuration()
        keys = {"NumberOfConnectors": str(self.connectors)}
        for number in range(1, self.connectors + 1):
            if number == 1:
                keys[f"MeterPublicKey{number}"] = self.public_key_hex
                continue
            other = self.other_meter_keys.setdefault(
                number, ec.generate_private_key(ec.SECP256R1())
            )
            keys[f"MeterPublicKey{number}"] = _der_hex(other)
        return {**super().configuration(), **keys}

    async def meter_values(self, power_w: float) -> None:
        """Outside a transaction it reports the idle transaction id, as Alfen firmware does."""
        if self.transaction_id is not None:
            await super().meter_values(power_w)
            return
        await self.send(
            call.MeterValues(
                connector_id=1,
                transaction_id=ALFEN_IDLE_TRANSACTION,
                meter_value=[
                    {"timestamp": stamp(self.at), "sampledValue": self._sampled(0, "Sample.Clock")}
                ],
            )
        )

    def ocmf(self, kinds: str = "BE") -> str:
        """The signed record of the running transaction: begin and end reading (`kinds`)."""

        readings = {
            "B": ocmf_reading(self._started_at, "B", self._started_wh),
            "E": ocmf_reading(self.at, "E", self.register_wh),
        }
        self._page = getattr(self, "_page", 100) + 1
        return signed_ocmf(
            {
                "FV": "1.0",
                "GI": "ALFEN",
                "GS": self.serial,
                "GV": self.firmware,
                "PG": f"T{self._page}",
                "MV": "Carlo Gavazzi",
                "MS": self.ocmf_meter_serial or self.meter_serial,
                "IS": True,
                "IT": "ISO14443",
                "RD": [readings[kind] for kind in kinds],
            },
            self.key,
            _flip_last_register_digit if self.tamper else None,
        )

    def _wrapped(self, ocmf: str) -> str:
        """The OCMF as this charger puts it into a value."""
        if self.signed_encoding == "hex":
            value = ocmf.encode().hex()
        elif self.signed_encoding == "oca":
            key = base64.b64encode(f"oca:base16:asn1:{self.public_key_hex}".encode()).decode()
            value = json.dumps(
                {
                    "signedMeterData": base64.b64encode(ocmf.encode()).decode(),
                    "signingMethod": "",
                    "encodingMethod": "OCMF",
                    "publicKey": key,
                }
            )
        else:
            value = ocmf
        return value if self.mangle is None else self.mangle(value)

    async def start_transaction(self, id_tag: str) -> str:
        """With `signed_begin`, the signed begin record follows in MeterValues."""
        status = await super().start_transaction(id_tag)
        if self.signed_begin:
            signed = self.ocmf("B")
            self.sent_ocmf.append(signed)
            await self.send(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=self.transaction_id,
                    meter_value=[
                        {
                            "timestamp": stamp(self.at),
                            "sampledValue": [
                                {
                                    "value": self._wrapped(signed),
                                    "context": "Transaction.Begin",
                                    "format": "SignedData",
                                }
                            ],
                        }
                    ],
                )
            )
        return status

    async def stop_transaction(self, reason: str = "Local") -> None:
        """With `ocmf_via` data_transfer, the end record goes first in a DataTransfer;
        with after_stop, it is signed now and sent by `send_signed_end`."""
        if self.ocmf_via in ("data_transfer", "after_stop"):
            signed = self.ocmf("E" if self.signed_begin else "BE")
            self.sent_ocmf.append(signed)
            if self.ocmf_via == "after_stop":
                self.signed_end = signed
            else:
                await self._transfer(signed)
        await super().stop_transaction(reason)

    async def send_signed_end(self) -> Any:
        """The end record signed at the stop, in a DataTransfer now; its confirmation."""
        assert self.signed_end is not None, "nothing signed at a stop"
        signed, self.signed_end = self.signed_end, None
        return await self._transfer(signed)

    async def _transfer(self, signed: str) -> Any:
        return await self.send(
            call.DataTransfer(
                vendor_id="generalConfiguration", message_id="OCMF", data=self._wrapped(signed)
            )
        )

    def _transaction_data(self) -> list[dict[str, Any]]:
        if self.ocmf_via != "stop":
            return [
                {
                    "timestamp": stamp(self.at),
                    "sampledValue": self._sampled(0, "Transaction.End")[:1],
                }
            ]
        signed = self.ocmf("E") if self.signed_begin else self.ocmf()
        self.sent_ocmf.append(signed)
        return [
            {
                "timestamp": stamp(self.at),
                "sampledValue": [
                    {
                        "value": self._wrapped(signed),
                        "context": "Transaction.End",
                        "format": "SignedData",
                    },
                    *self._sampled(0, "Transaction.End")[:1],
                ],
            }
        ]


def _flip_last_register_digit(payload: str) -> str:
    """The payload with the last digit of its last register value changed (+1 mod 10)."""
    start = payload.rindex('"RV":') + len('"RV":')
    end = start
    while end < len(payload) and (payload[end].isdigit() or payload[end] == "."):
        end += 1
    last = end - 1
    flipped = str((int(payload[last]) + 1) % 10)
    return payload[:last] + flipped + payload[end:]


def _der_hex(key: ec.EllipticCurvePrivateKey) -> str:
    """A meter's public key (DER SubjectPublicKeyInfo) in hex, as printed on its label."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        .hex()
    )
