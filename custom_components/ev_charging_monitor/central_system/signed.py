"""Signed meter values of OCPP chargers, as the session record carries them (Home Assistant-free).

OCMF reaches the central system in several wrappings: the plain text `OCMF|{...}|{...}` or
its hex (OCPP 1.6 `SignedData`) or base64 form in a sampled value, the OCA application
note's `SignedMeterValueType` JSON in that value, the same type as a 2.0.1 sampled value's
`signedMeterValue`, or a `DataTransfer` whose accepted shapes are listed in
`signed_transfers.json`. Each is unwrapped to the text the meter signed: the transport
encodings are lossless, so the signature still covers every byte the record stores.

Each value is stamped with the public key that verifies it and where that key came from:
the user's (from the meter's label or the register of the calibration authority) wins
over the one inside the value, which wins over the charger's configuration key (of the
transaction's connector, where the charger has one per connector: MeterPublicKey<n>);
all of them are public, so the record carries them in full.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
)

from ..const import LOGGER

# What a session record holds of signed values at most (session_record.schema.json).
MAX_SIGNED_VALUES: Final = 64
MAX_SIGNED_CHARS: Final = 65536
# The schema's limit of a public key's text.
MAX_KEY_CHARS: Final = 4096
FORMAT_OCMF: Final = "OCMF"
# Signed data in a format the ledger cannot check (EDL, a vendor's own), kept verbatim.
FORMAT_SIGNED_DATA: Final = "SignedData"
# A value that arrived but could not be kept; its `data` says why, with its digest.
FORMAT_OMITTED: Final = "omitted"
# Signed values that came after their session and joined no record, kept for the user.
MAX_LATE_KEPT: Final = 32
_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_OCMF_PREFIX: Final = "OCMF|"


class KeySource(StrEnum):
    """Where the public key stamped on a signed value came from."""

    USER = "user"
    EMBEDDED = "embedded"
    CHARGER = "charger"


class PublicKeyError(ValueError):
    """Text that is no elliptic-curve public key."""


def _decode_text(text: str) -> bytes | None:
    """Hex or base64, whichever `text` is; None when it is neither."""
    compact = "".join(text.split())
    if compact and len(compact) % 2 == 0 and _HEX.fullmatch(compact):
        return bytes.fromhex(compact)
    try:
        return base64.b64decode(compact, validate=True) if compact else None
    except (binascii.Error, ValueError):
        return None


def normalize_public_key(text: str) -> str:
    """The key as lowercase hex of its DER SubjectPublicKeyInfo, whatever form it was given in.

    Accepted: hex (also in groups with spaces or colons, as printed on labels), base64,
    PEM, KEBA's `{"UK": "..."}` and the OCA form `oca:base16:asn1:<key>` (also base64
    encoded, as OCPP's publicKey fields carry it). Raises PublicKeyError otherwise.
    """
    cleaned = text.strip()
    if not cleaned:
        raise PublicKeyError("empty")
    if len(cleaned) > MAX_KEY_CHARS:
        raise PublicKeyError(f"longer than {MAX_KEY_CHARS} characters")
    if cleaned.startswith("-----BEGIN"):
        try:
            key: Any = load_pem_public_key(cleaned.encode())
        except ValueError as err:
            raise PublicKeyError("not a PEM public key") from err
        return _checked(key)
    if cleaned.startswith("{"):
        try:
            cleaned = str(json.loads(cleaned)["UK"]).strip()
        except (ValueError, KeyError, TypeError, RecursionError) as err:
            raise PublicKeyError("JSON without a UK field") from err
    oca = _oca_key(cleaned)
    if oca is not None:
        der = oca
    else:
        decoded = _decode_text(cleaned.replace(":", "") if ":" in cleaned else cleaned)
        if decoded is None:
            raise PublicKeyError("neither hex nor base64")
        der = decoded
    try:
        key = load_der_public_key(der)
    except ValueError as err:
        raise PublicKeyError("not a DER SubjectPublicKeyInfo") from err
    return _checked(key)


def _oca_key(text: str) -> bytes | None:
    """The DER bytes of an `oca:<base16|base64>:asn1:<key>` key, plain or base64 encoded."""
    plain = text
    if not text.lower().startswith("oca:"):
        try:
            plain = base64.b64decode(text, validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            return None
        if not plain.lower().startswith("oca:"):
            return None
    parts = plain.split(":", 3)
    if len(parts) != 4 or parts[2].lower() != "asn1":
        raise PublicKeyError("OCA key is not oca:<base16|base64>:asn1:<key>")
    body = "".join(parts[3].split())
    try:
        if parts[1].lower() == "base16":
            return bytes.fromhex(body)
        if parts[1].lower() == "base64":
            return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as err:
        raise PublicKeyError(f"OCA key is not {parts[1]}") from err
    raise PublicKeyError(f"OCA key encoding {parts[1]!r} is neither base16 nor base64")


def _checked(key: Any) -> str:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise PublicKeyError("not an elliptic-curve key")
    der: bytes = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der.hex()


def key_fingerprint(key: str | None) -> str:
    """A short name of a (normalized) key for logs: the start of its SHA-256."""
    if key is None:
        return "none"
    return hashlib.sha256(bytes.fromhex(key)).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class SignedValue:
    """One signed value as received, unwrapped to the meter's own text."""

    format: str
    data: str
    # The key that came inside the value (normalized), if any.
    public_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class SignedMeterValue:
    """OCPP 2.0.1 `SignedMeterValueType` (also the OCA 1.6 SignedData JSON)."""

    signed_meter_data: str
    signing_method: str = ""
    encoding_method: str = ""
    public_key: str = ""

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SignedMeterValue:
        """From camelCase JSON or the ocpp library's snake_case keyword arguments."""

        def text(*names: str) -> str:
            for name in names:
                if isinstance(value := payload.get(name), str):
                    return value
            return ""

        data = payload.get("signedMeterData", payload.get("signed_meter_data"))
        if not isinstance(data, str):
            raise ValueError("signedMeterData is missing")
        return cls(
            signed_meter_data=data,
            signing_method=text("signingMethod", "signing_method"),
            encoding_method=text("encodingMethod", "encoding_method"),
            public_key=text("publicKey", "public_key"),
        )

    def unwrap(self) -> SignedValue:
        """The signed text; signedMeterData is base64 (OCA note) or, seen too, plain text."""
        inner = unwrap(self.signed_meter_data)
        fmt = inner.format
        if fmt == FORMAT_SIGNED_DATA and self.encoding_method:
            fmt = self.encoding_method[:20]
        key: str | None = None
        if self.public_key:
            try:
                key = normalize_public_key(self.public_key)
            except PublicKeyError:
                key = None  # a key that does not parse verifies nothing; the others may
        return SignedValue(format=fmt, data=inner.data, public_key=key or inner.public_key)


def signed_values_201(meter_values: Iterable[Mapping[str, Any]]) -> list[SignedValue]:
    """The signed values of OCPP 2.0.1 `meterValue` entries (TransactionEvent, MeterValues).

    Keys as the ocpp library hands them over (snake_case); one that does not parse is
    skipped, so the message is still confirmed.
    """
    found: list[SignedValue] = []
    for meter_value in meter_values:
        for sampled in meter_value.get("sampled_value") or []:
            payload = sampled.get("signed_meter_value")
            if isinstance(payload, Mapping):
                try:
                    found.append(SignedMeterValue.from_payload(payload).unwrap())
                except ValueError:
                    continue
    return found


def unwrap(value: str) -> SignedValue:
    """A 1.6 SignedData value (or a DataTransfer's data) as the meter signed it."""
    text = value.strip()
    if text.startswith(_OCMF_PREFIX):
        return SignedValue(format=FORMAT_OCMF, data=text)
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict) and (
            "signedMeterData" in payload or "signed_meter_data" in payload
        ):
            try:
                return SignedMeterValue.from_payload(payload).unwrap()
            except ValueError:
                pass
    decoded = _decode_text(text) if len(text) <= 2 * MAX_SIGNED_CHARS else None
    if decoded is not None and decoded.startswith(_OCMF_PREFIX.encode()):
        try:
            return SignedValue(format=FORMAT_OCMF, data=decoded.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return SignedValue(format=FORMAT_SIGNED_DATA, data=value)


@dataclass(frozen=True, kw_only=True)
class TransferShape:
    """A DataTransfer that carries signed values: who sends it, and where the value is."""

    vendor_id: str  # "*": any vendor
    message_id: str
    # JSON fields of `data` that hold the value, tried in order; none: `data` is the value.
    fields: tuple[str, ...] = ()

    def matches(self, vendor_id: str, message_id: str | None) -> bool:
        vendor = self.vendor_id == "*" or self.vendor_id.casefold() == vendor_id.casefold()
        return vendor and (message_id or "").casefold() == self.message_id.casefold()


def _load_shapes() -> tuple[TransferShape, ...]:
    text = (Path(__file__).parent / "signed_transfers.json").read_text("utf-8")
    return tuple(
        TransferShape(
            vendor_id=item["vendor_id"],
            message_id=item["message_id"],
            fields=tuple(item.get("fields", ())),
        )
        for item in json.loads(text)["data_transfers"]
    )


# Read once on import (in the executor that imports the integration, not the event loop).
TRANSFER_SHAPES: Final = _load_shapes()


def transfer_refusal(vendor_id: str) -> str:
    """The DataTransfer status for a message that carries no signed values (OCPP 1.6 4.3)."""
    if any(shape.vendor_id in ("*", vendor_id) for shape in TRANSFER_SHAPES):
        return "UnknownMessageId"
    return "UnknownVendorId"


def from_data_transfer(
    vendor_id: str, message_id: str | None, data: str | None
) -> list[SignedValue] | None:
    """The signed values of a DataTransfer; None when it is no shape of signed data."""
    shape = next((s for s in TRANSFER_SHAPES if s.matches(vendor_id, message_id)), None)
    if shape is None:
        return None
    if not data:
        return []
    texts: list[str] = [data]
    if shape.fields and data.lstrip().startswith("{"):
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict):
            for name in shape.fields:
                found = payload.get(name)
                if isinstance(found, Mapping):
                    try:
                        return [SignedMeterValue.from_payload(found).unwrap()]
                    except ValueError:
                        continue
                if isinstance(found, list):
                    texts = [item for item in found if isinstance(item, str)]
                    break
                if isinstance(found, str):
                    texts = [found]
                    break
    return [unwrap(text) for text in texts]


def ocmf_meter(data: str) -> tuple[str | None, str | None]:
    """The meter serial (MS) and model (MM, else MV) an OCMF payload names."""
    parts = data.split("|")
    if len(parts) < 3 or parts[0] != "OCMF":
        return None, None
    try:
        payload = json.loads(parts[1])
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(payload, dict):
        return None, None

    def text(name: str) -> str | None:
        value = payload.get(name)
        return value.strip() or None if isinstance(value, str) else None

    return text("MS"), text("MM") or text("MV")


@dataclass
class MeterKeys:
    """The meter's public keys known outside the values: the charger's and the user's.

    `charger` is connector 1's key (or the charger's only one); `connectors` the keys of
    its other connectors where it has one per connector (MeterPublicKey2, ...).
    """

    charger: str | None = None
    user: str | None = None
    connectors: dict[int, str] = field(default_factory=dict)

    def of_connector(self, connector_id: int) -> str | None:
        """The charger's key for a transaction on `connector_id`."""
        if connector_id == 1 or not self.connectors:
            return self.charger
        return self.connectors.get(connector_id)


@dataclass
class SignedValues:
    """The signed values of the charger's running session, and what they say of the meter.

    `on_change` is called after every change, so the caller can keep them across a
    restart; `on_key_change(old, new)` when the charger reports another key.
    """

    keys: MeterKeys = field(default_factory=MeterKeys)
    # Each as the record carries it: format, data, public_key, key_source.
    pending: list[dict[str, Any]] = field(default_factory=list)
    # The meter's identity as its signed values state it (survives the session).
    meter_serial: str | None = None
    meter_model: str | None = None
    # The connector of the running (or last) transaction: whose key stamps its values.
    connector: int = 1
    # Values that came after their session and joined no record (late_signed.py), each
    # with the session it was meant for, when it came, and why it was kept aside.
    late: list[dict[str, Any]] = field(default_factory=list)
    on_change: Callable[[], None] = field(default=lambda: None, repr=False)
    on_key_change: Callable[[str | None, str | None], None] = field(
        default=lambda _old, _new: None, repr=False
    )

    def set_charger_key(self, text: str | None, connector_id: int = 1) -> str | None:
        """The key the charger's configuration reports for `connector_id`; why it is
        unusable, if it is.

        A charger without a key, or with one that does not parse, keeps the key known.
        """
        if not text:
            return None
        try:
            key = normalize_public_key(text)
        except PublicKeyError as err:
            LOGGER.warning(
                "The charger reports a meter public key (connector %s) that is unusable: %s",
                connector_id,
                err,
            )
            return str(err)
        if connector_id != 1:
            if self.keys.connectors.get(connector_id) != key:
                self.keys.connectors[connector_id] = key
                self.on_change()
            return None
        if key != self.keys.charger:
            old, self.keys.charger = self.keys.charger, key
            self.on_key_change(old, key)
            self.on_change()
        return None

    def _key(self, embedded: str | None) -> tuple[str | None, KeySource | None]:
        if self.keys.user is not None:
            return self.keys.user, KeySource.USER
        if embedded is not None:
            return embedded, KeySource.EMBEDDED
        if (charger := self.keys.of_connector(self.connector)) is not None:
            return charger, KeySource.CHARGER
        return None, None

    def stamped(self, values: Iterable[SignedValue]) -> list[dict[str, Any]]:
        """Values as the record carries them, each with the key that verifies it now."""
        items: list[dict[str, Any]] = []
        for value in values:
            if len(value.data) > MAX_SIGNED_CHARS:
                items.append(_omitted(value))
                continue
            key, source = self._key(value.public_key)
            items.append(
                {
                    "format": value.format,
                    "data": value.data,
                    "public_key": key,
                    "key_source": None if source is None else str(source),
                }
            )
        return items

    def add(self, values: Iterable[SignedValue]) -> None:
        """Values received now; each stamped with the key that verifies it now."""
        values = list(values)
        self.pending.extend(self.stamped(values))
        for value in values:
            if value.format == FORMAT_OCMF and len(value.data) <= MAX_SIGNED_CHARS:
                serial, model = ocmf_meter(value.data)
                if serial is not None:
                    self.meter_serial, self.meter_model = serial, model
        if values:
            self.on_change()

    def keep_late(self, items: Iterable[dict[str, Any]], **details: str | None) -> None:
        """Values that joined no record: kept (the newest MAX_LATE_KEPT) with `details`
        (session_id, received_at, reason), for the diagnostics and the user."""
        self.late.extend({**item, **details} for item in items)
        del self.late[:-MAX_LATE_KEPT]
        self.on_change()

    def extend(self, texts: Iterable[str]) -> None:
        """SignedData values of MeterValues or StopTransaction, as sent."""
        self.add(unwrap(text) for text in texts)

    def __len__(self) -> int:
        """How many values the running session holds."""
        return len(self.pending)

    def clear(self) -> None:
        """A new transaction starts: what it signs starts afresh."""
        if self.pending:
            self.pending.clear()
            self.on_change()

    def take(self) -> list[dict[str, Any]]:
        """The values of the session that ends now, at most MAX_SIGNED_VALUES.

        Over the limit, the first value (a begin reading, usually) and the newest stay.
        A value still without a key gets the key known now.
        """
        taken = list(self.pending)
        if len(taken) > MAX_SIGNED_VALUES:
            taken = [taken[0], *taken[-(MAX_SIGNED_VALUES - 1) :]]
        for item in taken:
            if item["public_key"] is None and item["format"] != FORMAT_OMITTED:
                key, source = self._key(None)
                item["public_key"] = key
                item["key_source"] = None if source is None else str(source)
        self.clear()
        return taken

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, for a Store (the user's key lives in the entry's options)."""
        return {
            "charger_key": self.keys.charger,
            "connector_keys": {str(n): key for n, key in self.keys.connectors.items()},
            "pending": self.pending,
            "meter_serial": self.meter_serial,
            "meter_model": self.meter_model,
            "connector": self.connector,
            "late": self.late,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what `to_dict` wrote (before a restart)."""
        key = data.get("charger_key")
        self.keys.charger = key if isinstance(key, str) else None
        pending = data.get("pending")
        if isinstance(pending, list):
            self.pending = [item for item in pending if isinstance(item, dict)]
        serial, model = data.get("meter_serial"), data.get("meter_model")
        self.meter_serial = serial if isinstance(serial, str) else None
        self.meter_model = model if isinstance(model, str) else None
        connectors = data.get("connector_keys")
        if isinstance(connectors, Mapping):
            self.keys.connectors = {
                int(n): key
                for n, key in connectors.items()
                if isinstance(n, str) and n.isdigit() and isinstance(key, str)
            }
        connector = data.get("connector")
        self.connector = connector if type(connector) is int else 1
        late = data.get("late")
        if isinstance(late, list):
            self.late = [item for item in late if isinstance(item, dict)][-MAX_LATE_KEPT:]


def _omitted(value: SignedValue) -> dict[str, Any]:
    """What the record keeps of a value over its size limit: why, and which value it was."""
    digest = hashlib.sha256(value.data.encode("utf-8", "surrogatepass")).hexdigest()
    return {
        "format": FORMAT_OMITTED,
        "data": (
            f"{value.format} value of {len(value.data)} characters is over the record's limit "
            f"of {MAX_SIGNED_CHARS}; SHA-256 {digest}"
        ),
        "public_key": None,
        "key_source": None,
    }
