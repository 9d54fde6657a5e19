"""OCMF (Open Charge Metering Format) parsing and verification.

The signature is checked over the payload's exact bytes as received: OCMF forbids
re-serialising the payload (reimbursement.md section 2.2), so nothing here ever builds a
payload string, it only slices the original. The transaction checks follow the SAFE
Transparenzsoftware's law checks (section 2.3).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

_CURVES: dict[str, ec.EllipticCurve] = {
    "secp192r1": ec.SECP192R1(),
    "secp256r1": ec.SECP256R1(),
    "secp384r1": ec.SECP384R1(),
    "secp521r1": ec.SECP521R1(),
    "secp256k1": ec.SECP256K1(),
    "brainpool256r1": ec.BrainpoolP256R1(),
    "brainpool384r1": ec.BrainpoolP384R1(),
    "brainpoolp256r1": ec.BrainpoolP256R1(),
    "brainpoolp384r1": ec.BrainpoolP384R1(),
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
_BAD_IDENTIFICATION_LEVELS = frozenset({"MISMATCH", "INVALID", "OUTDATED", "UNKNOWN"})
# An OCMF record is a few hundred bytes to a few KB; the limits keep a hostile string
# from costing more than a bounded amount of memory and time (and keep json's recursive
# decoder far from Python's recursion limit).
MAX_OCMF_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_RECORDS = 64


class OcmfError(ValueError):
    """A string that is not a well-formed OCMF record."""


@dataclass(frozen=True, slots=True)
class Reading:
    time: datetime
    time_status: str
    kind: str | None
    value_wh: Decimal
    status: str | None
    error_flags: str


@dataclass(frozen=True, slots=True)
class OcmfRecord:
    raw: str
    payload_text: str
    payload: dict[str, Any]
    signature: dict[str, Any]
    embedded_public_key: str | None

    @property
    def meter_serial(self) -> str | None:
        value = self.payload.get("MS")
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class Verification:
    """Outcome of checking one session's signed meter values."""

    signature_valid: bool = False
    transaction_valid: bool = False
    problems: list[str] = field(default_factory=list)
    begin_wh: Decimal | None = None
    end_wh: Decimal | None = None
    meter_serial: str | None = None

    @property
    def valid(self) -> bool:
        return self.signature_valid and self.transaction_valid

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "signature_valid": self.signature_valid,
            "transaction_valid": self.transaction_valid,
            "problems": list(self.problems),
            "begin_wh": None if self.begin_wh is None else format(self.begin_wh, "f"),
            "end_wh": None if self.end_wh is None else format(self.end_wh, "f"),
            "meter_serial": self.meter_serial,
        }


def _check_depth(text: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before the recursive decoder sees it."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than it has openers (the usual OCMF: a handful)
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise OcmfError(f"OCMF JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def parse(raw: str) -> OcmfRecord:
    if len(raw) > MAX_OCMF_BYTES:
        raise OcmfError(f"OCMF record is larger than {MAX_OCMF_BYTES // 1024} KB")
    sections = raw.split("|")
    if len(sections) not in (3, 4) or sections[0] != "OCMF":
        raise OcmfError("not an OCMF record (expected OCMF|payload|signature)")
    _check_depth(sections[1])
    _check_depth(sections[2])
    try:
        payload = json.loads(sections[1], parse_float=Decimal, parse_int=Decimal)
        signature = json.loads(sections[2])
    except json.JSONDecodeError as err:
        raise OcmfError(f"OCMF section is not JSON: {err.msg}") from err
    if not isinstance(payload, dict) or not isinstance(signature, dict):
        raise OcmfError("OCMF sections must be JSON objects")
    return OcmfRecord(
        raw=raw,
        payload_text=sections[1],
        payload=payload,
        signature=signature,
        embedded_public_key=sections[3] if len(sections) == 4 else None,
    )


def _decode_bytes(text: str, encoding: str) -> bytes:
    try:
        if encoding == "base64":
            return base64.b64decode(text, validate=True)
        return bytes.fromhex(text)
    except (ValueError, binascii.Error) as err:
        raise OcmfError(f"cannot decode {encoding} data") from err


@lru_cache(maxsize=256)
def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """A DER SubjectPublicKeyInfo key, hex (the OCMF default) or base64."""
    cleaned = text.strip()
    if cleaned.startswith("{"):
        # KEBA wraps the key as {"UK": "3059..."} (reimbursement.md section 2.4).
        try:
            cleaned = str(json.loads(cleaned)["UK"])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise OcmfError("public key JSON without a UK field") from err
    try:
        der = bytes.fromhex(cleaned)
    except ValueError:
        der = _decode_bytes(cleaned, "base64")
    try:
        key = load_der_public_key(der)
    except ValueError as err:
        raise OcmfError("public key is not a DER SubjectPublicKeyInfo") from err
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise OcmfError("public key is not an elliptic-curve key")
    return key


def verify_signature(record: OcmfRecord, public_key_text: str | None) -> None:
    """Raise OcmfError unless the signature is valid for the payload bytes."""
    key_text = public_key_text or record.embedded_public_key
    if not key_text:
        raise OcmfError("no public key for the OCMF record (none came with the session)")
    key = load_public_key(key_text)
    algorithm = str(record.signature.get("SA") or "ECDSA-secp256r1-SHA256")
    parts = algorithm.split("-")
    if len(parts) != 3 or parts[0] != "ECDSA":
        raise OcmfError(f"unsupported signature algorithm {algorithm}")
    curve = _CURVES.get(parts[1].lower())
    hash_type = _HASHES.get(parts[2].upper())
    if curve is None or hash_type is None:
        raise OcmfError(f"unsupported signature algorithm {algorithm}")
    if key.curve.name != curve.name:
        raise OcmfError(f"public key curve {key.curve.name} does not match {algorithm}")
    encoding = str(record.signature.get("SE") or "hex").lower()
    signature_text = record.signature.get("SD")
    if not isinstance(signature_text, str):
        raise OcmfError("OCMF signature has no SD")
    signature = _decode_bytes(signature_text, encoding)
    try:
        key.verify(signature, record.payload_text.encode("utf-8"), ec.ECDSA(hash_type()))
    except InvalidSignature as err:
        raise OcmfError(
            "signature does not match the payload: it was changed after signing, "
            "or another key signed it"
        ) from err


def _parse_time(text: Any) -> tuple[datetime, str]:
    if not isinstance(text, str):
        raise OcmfError("reading without TM")
    stamp, _, status = text.partition(" ")
    try:
        moment = datetime.fromisoformat(stamp.replace(",", "."))
    except ValueError as err:
        raise OcmfError(f"bad TM {text!r}") from err
    if moment.tzinfo is None:
        raise OcmfError(f"TM without offset {text!r}")
    return moment, status or "U"


def readings(record: OcmfRecord) -> list[Reading]:
    raw_readings = record.payload.get("RD")
    if not isinstance(raw_readings, list) or not raw_readings:
        raise OcmfError("OCMF payload has no readings")
    result: list[Reading] = []
    previous: dict[str, Any] = {}
    for item in raw_readings:
        if not isinstance(item, dict):
            raise OcmfError("reading is not an object")
        # Values equal to the previous reading may be omitted within one record.
        merged = {**previous, **item}
        previous = merged
        moment, time_status = _parse_time(merged.get("TM"))
        value = merged.get("RV")
        if not isinstance(value, Decimal):
            raise OcmfError("reading without a numeric RV")
        unit = merged.get("RU")
        if unit == "kWh":
            value_wh = value * 1000
        elif unit == "Wh":
            value_wh = value
        else:
            raise OcmfError(f"reading unit {unit!r} is not energy")
        result.append(
            Reading(
                time=moment,
                time_status=time_status,
                kind=item.get("TX"),
                value_wh=value_wh,
                status=merged.get("ST"),
                error_flags=str(merged.get("EF") or ""),
            )
        )
    return result


def verify_session(
    signed_values: list[dict[str, Any]] | tuple[dict[str, Any], ...],
) -> Verification | None:
    """Verify every OCMF record of a session and the transaction they form.

    Returns None when the session carries no OCMF at all.
    """
    ocmf_items = [item for item in signed_values if item.get("format", "OCMF") == "OCMF"]
    others = [
        _unchecked(index, item)
        for index, item in enumerate(signed_values)
        if item.get("format", "OCMF") != "OCMF"
    ]
    if not ocmf_items:
        # Signed values the ledger cannot check prove nothing, and the grade says why.
        return Verification(problems=others) if others else None
    result = Verification()
    # Only a value that was not kept is worth telling beside OCMF that verifies.
    result.problems.extend(problem for problem in others if "was not kept" in problem)
    if len(ocmf_items) > MAX_RECORDS:
        result.problems.append(f"more than {MAX_RECORDS} OCMF records")
        return result
    all_readings: list[Reading] = []
    pages: list[str | None] = []
    serials: set[str] = set()
    identification_levels: set[str] = set()
    signatures_ok = True
    for index, item in enumerate(ocmf_items):
        data = item.get("data")
        if not isinstance(data, str):
            result.problems.append(f"record {index}: no OCMF data")
            signatures_ok = False
            continue
        try:
            record = parse(data)
            verify_signature(record, item.get("public_key"))
            all_readings.extend(readings(record))
        except OcmfError as err:
            result.problems.append(f"record {index}: {err}")
            signatures_ok = False
            continue
        page = record.payload.get("PG")
        pages.append(page if isinstance(page, str) else None)
        if record.meter_serial:
            serials.add(record.meter_serial)
        level = record.payload.get("IL")
        if isinstance(level, str):
            identification_levels.add(level)
    result.signature_valid = signatures_ok
    if len(serials) > 1:
        result.problems.append("records come from different meters: " + ", ".join(sorted(serials)))
    result.meter_serial = next(iter(serials)) if len(serials) == 1 else None
    paginated = _check_pagination(pages, result) if signatures_ok else False
    result.transaction_valid = (
        signatures_ok and _check_transaction(all_readings, identification_levels, result)
    ) and paginated
    if len(serials) > 1:
        result.transaction_valid = False
    return result


def _unchecked(index: int, item: dict[str, Any]) -> str:
    """Why a signed value in another format than OCMF proves nothing here."""
    fmt = str(item.get("format"))[:20]
    if fmt == "omitted":
        return f"signed value {index} was not kept by Home Assistant: {str(item.get('data'))[:300]}"
    return f"signed value {index} is in format {fmt!r}, which the ledger cannot verify"


def _check_transaction(all_readings: list[Reading], levels: set[str], result: Verification) -> bool:
    begins = [reading for reading in all_readings if reading.kind == "B"]
    ends = [reading for reading in all_readings if reading.kind == "E"]
    problems: list[str] = []
    if len(begins) != 1 or len(ends) != 1:
        problems.append(
            f"expected one begin and one end reading, got {len(begins)} and {len(ends)}"
        )
    else:
        begin, end = begins[0], ends[0]
        result.begin_wh, result.end_wh = begin.value_wh, end.value_wh
        if begin.value_wh > end.value_wh:
            problems.append("end register is below the begin register")
        if begin.time > end.time:
            problems.append("end time is before begin time")
        if begin.time_status == "R" and end.time_status != "R":
            problems.append("begin time is relative but end time is not")
        for label, reading in (("begin", begin), ("end", end)):
            if reading.status != "G":
                problems.append(f"{label} meter status is {reading.status!r}, not 'G'")
            if set(reading.error_flags) & {"E", "t"}:
                problems.append(f"{label} reading has error flags {reading.error_flags!r}")
    bad_levels = levels & _BAD_IDENTIFICATION_LEVELS
    if bad_levels:
        problems.append("identification level " + ", ".join(sorted(bad_levels)))
    result.problems.extend(problems)
    return not problems


def _check_pagination(pages: list[str | None], result: Verification) -> bool:
    """Records of one transaction carry consecutive pagination numbers of one counter.

    ``T130 -> T131`` is a sequence; a skipped (``T130 -> T132``), repeated or reversed
    (``T134 -> T133``) number means a record was removed, added or reordered.
    """
    if len(pages) < 2:
        return True
    parsed: list[tuple[str, int]] = []
    for index, page in enumerate(pages):
        if page is None or len(page) < 2 or not page[1:].isdigit() or not page[1:].isascii():
            result.problems.append(f"record {index}: pagination {page!r} is not a counter")
            return False
        parsed.append((page[0], int(page[1:])))
    for index in range(1, len(parsed)):
        (kind, number), (previous_kind, previous) = parsed[index], parsed[index - 1]
        if kind != previous_kind or number != previous + 1:
            result.problems.append(
                f"pagination is not consecutive: {pages[index - 1]} -> {pages[index]}"
            )
            return False
    return True
