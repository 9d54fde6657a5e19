"""The decision: may this credential charge at this charger now? (Home Assistant-free.)

Results follow OCPP 1.6 `idTagInfo.status`: an unknown credential is `invalid`, a blocked
one `blocked`, one outside its validity period `expired`, one limited to a single session
that is in use at another charger `concurrent`, anything else `accepted`. A charger the
credential may not use is `blocked` too (OCPP 1.6 has no "not at this location"); the
`reason` tells these cases apart for the event and the log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .model import (
    AuthorizationResult,
    Credential,
    CredentialKind,
    CredentialStatus,
    Person,
    Vehicle,
)

_SEPARATORS = re.compile(r"[\s:\-]")
HASH_PREFIX_LENGTH = 12


def normalise_uid(uid: str) -> str:
    """An RFID UID as one canonical text: hex digits upper case, no separators."""
    return _SEPARATORS.sub("", uid).upper()


def credential_hash(secret: bytes, kind: CredentialKind, value: str) -> str:
    """HMAC-SHA256 (hex) of a UID or tag id with the installation's secret.

    Without the secret the hash cannot be linked back to a card, so it is what records,
    events and the UI show. The kind is part of the message: an RFID UID and an NFC tag
    id with the same text are different credentials.
    """
    text = normalise_uid(value) if kind is CredentialKind.RFID else value.strip()
    return hmac.new(secret, f"{kind.value}:{text}".encode(), hashlib.sha256).hexdigest()


def short_hash(key: str) -> str:
    """The first characters of a hash, for people to tell cards apart."""
    return key[:HASH_PREFIX_LENGTH]


@dataclass(frozen=True)
class Decision:
    """The result of one attempt, with what it found."""

    result: AuthorizationResult
    reason: str
    credential: Credential | None = None
    person: Person | None = None
    vehicle: Vehicle | None = None

    @property
    def accepted(self) -> bool:
        """Whether charging may start."""
        return self.result is AuthorizationResult.ACCEPTED


@dataclass
class Directory:
    """People, vehicles and credentials, indexed the way decisions look them up."""

    people: dict[str, Person]
    vehicles: dict[str, Vehicle]
    credentials: dict[str, Credential]

    def find(self, kind: CredentialKind, key: str) -> Credential | None:
        """The credential of that kind and key, if any."""
        for credential in self.credentials.values():
            if credential.kind is kind and hmac.compare_digest(credential.key, key):
                return credential
        return None

    def vehicle_of(self, credential: Credential) -> Vehicle | None:
        """The credential's vehicle, or the person's only vehicle."""
        if credential.vehicle_id is not None:
            return self.vehicles.get(credential.vehicle_id)
        owned = [v for v in self.vehicles.values() if v.person_id == credential.person_id]
        return owned[0] if len(owned) == 1 else None


def decide(
    directory: Directory,
    kind: CredentialKind,
    key: str,
    *,
    charger_id: str,
    now: datetime,
    in_use: Mapping[str, str],
) -> Decision:
    """Decide on one attempt.

    `in_use` maps the ids of credentials that authorise a running session to the charger
    they authorise (a credential may always re-authorise its own charger).
    """
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    credential = directory.find(kind, key)
    if credential is None:
        return Decision(AuthorizationResult.INVALID, "unknown")
    person = directory.people.get(credential.person_id)
    vehicle = directory.vehicle_of(credential)

    def deny(result: AuthorizationResult, reason: str) -> Decision:
        return Decision(result, reason, credential, person, vehicle)

    if person is None:
        return deny(AuthorizationResult.INVALID, "no_person")
    if credential.status is CredentialStatus.BLOCKED:
        return deny(AuthorizationResult.BLOCKED, "blocked")
    if credential.valid_from is not None and now < credential.valid_from:
        return deny(AuthorizationResult.EXPIRED, "not_yet_valid")
    if credential.valid_until is not None and now >= credential.valid_until:
        return deny(AuthorizationResult.EXPIRED, "expired")
    if credential.chargers is not None and charger_id not in credential.chargers:
        return deny(AuthorizationResult.BLOCKED, "charger_not_allowed")
    elsewhere = in_use.get(credential.id)
    if credential.single_session and elsewhere is not None and elsewhere != charger_id:
        return deny(AuthorizationResult.CONCURRENT, "in_use")
    return Decision(AuthorizationResult.ACCEPTED, "accepted", credential, person, vehicle)
