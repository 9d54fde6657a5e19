"""How a simulated Eichrecht meter signs its readings as OCMF (what the ledger verifies):
the readings, the compact JSON payload, and an ECDSA secp256r1 signature over it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def ocmf_reading(at: datetime, kind: str, wh: int) -> dict[str, Any]:
    """One reading (`kind` B for begin, E for end) of the register in kWh, status good."""
    return {
        "TM": at.strftime("%Y-%m-%dT%H:%M:%S,000+0000") + " S",
        "TX": kind,
        "RV": round(wh / 1000, 3),
        "RI": "1-b:1.8.0",
        "RU": "kWh",
        "RT": "AC",
        "ST": "G",
    }


def signed_ocmf(
    fields: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
    after_signing: Callable[[str], str] | None = None,
) -> str:
    """`OCMF|payload|signature` of `fields`; `after_signing` changes the payload once it is
    signed (a tampering test)."""
    payload = json.dumps(fields, separators=(",", ":"))
    signature = key.sign(payload.encode(), ec.ECDSA(hashes.SHA256()))
    if after_signing is not None:
        payload = after_signing(payload)
    return f'OCMF|{payload}|{{"SA":"ECDSA-secp256r1-SHA256","SE":"hex","SD":"{signature.hex()}"}}'
