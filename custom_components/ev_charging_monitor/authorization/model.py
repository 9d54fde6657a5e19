"""People, vehicles, credentials and the other authorization data (Home Assistant-free).

Everything here round-trips through plain JSON (`to_dict` / `from_dict`), which is how the
Store keeps it. RFID UIDs and NFC tag ids are kept as keyed hashes (`engine.credential_hash`);
`uid` holds the raw value only when the administrator opted in.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CredentialKind(StrEnum):
    """Where a credential comes from (also the record's `authorization.method`)."""

    RFID = "rfid"  # the charger's own RFID reader
    NFC_TAG = "nfc_tag"  # a Home Assistant tag scanned with the companion app
    HA_USER = "ha_user"  # a Home Assistant user pressing "authorise"


class CredentialStatus(StrEnum):
    """Whether a credential may be used at all."""

    ACTIVE = "active"
    BLOCKED = "blocked"


class AuthorizationResult(StrEnum):
    """The outcome of an attempt, after OCPP 1.6 idTagInfo.status."""

    ACCEPTED = "accepted"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    INVALID = "invalid"  # unknown credential
    CONCURRENT = "concurrent"  # already in use at another charger


class AuthorizationMode(StrEnum):
    """Per charger: hold it until an accepted credential arrives, or only attribute."""

    REQUIRED = "required"
    FREE = "free"


class ResolveAction:
    """What the administrator decides about an unknown card."""

    ALLOW_ONCE = "allow_once"
    ADD_TO_PERSON = "add_to_person"
    IGNORE = "ignore"
    ALL = (ALLOW_ONCE, ADD_TO_PERSON, IGNORE)


DEFAULT_CARD_WINDOW_S = 120


def new_id() -> str:
    """A short random id for people, vehicles, credentials and unknown cards."""
    return uuid.uuid4().hex[:12]


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Person:
    """Someone who charges; optionally a Home Assistant user."""

    id: str
    name: str
    user_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        """Back from JSON."""
        return cls(id=data["id"], name=data["name"], user_id=data.get("user_id"))


@dataclass
class Vehicle:
    """A vehicle of a person."""

    id: str
    name: str
    person_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vehicle:
        """Back from JSON."""
        return cls(id=data["id"], name=data["name"], person_id=data["person_id"])


@dataclass
class Credential:
    """An RFID card, an NFC tag or a Home Assistant user that belongs to a person.

    `key` is the keyed hash of the UID or tag id, or the Home Assistant user id.
    `chargers` None means every charger; otherwise the config entry ids allowed.
    """

    id: str
    kind: CredentialKind
    key: str
    person_id: str
    label: str = ""
    status: CredentialStatus = CredentialStatus.ACTIVE
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    single_session: bool = False
    chargers: list[str] | None = None
    vehicle_id: str | None = None
    uid: str | None = None  # raw UID, only with the administrator's opt-in

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "key": self.key,
            "person_id": self.person_id,
            "label": self.label,
            "status": self.status.value,
            "valid_from": _text(self.valid_from),
            "valid_until": _text(self.valid_until),
            "single_session": self.single_session,
            "chargers": None if self.chargers is None else list(self.chargers),
            "vehicle_id": self.vehicle_id,
            "uid": self.uid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credential:
        """Back from JSON."""
        return cls(
            id=data["id"],
            kind=CredentialKind(data["kind"]),
            key=data["key"],
            person_id=data["person_id"],
            label=data.get("label", ""),
            status=CredentialStatus(data.get("status", CredentialStatus.ACTIVE)),
            valid_from=_time(data.get("valid_from")),
            valid_until=_time(data.get("valid_until")),
            single_session=bool(data.get("single_session", False)),
            chargers=data.get("chargers"),
            vehicle_id=data.get("vehicle_id"),
            uid=data.get("uid"),
        )


@dataclass
class UnknownCard:
    """An unknown RFID card or NFC tag, kept for the administrator to decide on."""

    id: str
    kind: CredentialKind
    key: str
    charger_id: str
    charger_name: str
    session_id: str | None
    seen_at: datetime
    attempts: int = 1
    uid: str | None = None  # raw UID, only with the administrator's opt-in

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "key": self.key,
            "charger_id": self.charger_id,
            "charger_name": self.charger_name,
            "session_id": self.session_id,
            "seen_at": self.seen_at.isoformat(),
            "attempts": self.attempts,
            "uid": self.uid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnknownCard:
        """Back from JSON."""
        return cls(
            id=data["id"],
            kind=CredentialKind(data["kind"]),
            key=data["key"],
            charger_id=data["charger_id"],
            charger_name=data["charger_name"],
            session_id=data.get("session_id"),
            seen_at=datetime.fromisoformat(data["seen_at"]),
            attempts=int(data.get("attempts", 1)),
            uid=data.get("uid"),
        )


@dataclass
class Settings:
    """Installation-wide settings of authorization."""

    # Set while the Authorization config entry exists; without it no charger is held.
    enabled: bool = False
    # Mode of chargers without their own entry in `modes`: default deny.
    default_mode: AuthorizationMode = AuthorizationMode.REQUIRED
    modes: dict[str, AuthorizationMode] = field(default_factory=dict)
    store_raw_uids: bool = False
    notify_unknown: bool = True
    # A notify action (e.g. notify.mobile_app_phone) that also gets the unknown-card
    # notification, with allow once / add to person / ignore as actionable buttons.
    notify_service: str | None = None
    # A card presented while no vehicle is connected applies to a plug-in this soon after.
    card_window_s: int = DEFAULT_CARD_WINDOW_S

    def mode_for(self, charger_id: str) -> AuthorizationMode:
        """The charger's mode; every charger is free while authorization is not set up."""
        if not self.enabled:
            return AuthorizationMode.FREE
        return self.modes.get(charger_id, self.default_mode)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "enabled": self.enabled,
            "default_mode": self.default_mode.value,
            "modes": {key: mode.value for key, mode in self.modes.items()},
            "store_raw_uids": self.store_raw_uids,
            "notify_unknown": self.notify_unknown,
            "notify_service": self.notify_service,
            "card_window_s": self.card_window_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Back from JSON."""
        return cls(
            enabled=bool(data.get("enabled", False)),
            default_mode=AuthorizationMode(data.get("default_mode", AuthorizationMode.REQUIRED)),
            modes={key: AuthorizationMode(mode) for key, mode in data.get("modes", {}).items()},
            store_raw_uids=bool(data.get("store_raw_uids", False)),
            notify_unknown=bool(data.get("notify_unknown", True)),
            notify_service=data.get("notify_service"),
            card_window_s=int(data.get("card_window_s", DEFAULT_CARD_WINDOW_S)),
        )


@dataclass
class ChargerState:
    """What must survive a restart about one charger: is it authorised, and for whom.

    A charger in "required" mode without `authorized` is locked; a missing state is locked.
    `attribution` is what the session record will carry; `session_id` and `cycle` (the
    charger's per-plug-cycle counters, plug_cycle.py) tie both to one plug-in, `connected`
    whether the last poll saw a vehicle. `seen_tag` is the hash of the value last seen in
    the RFID register, so a card is evaluated once when it appears, not at every poll;
    `pending_tag` a card presented with no vehicle, kept until `pending_at` + the card
    window for the next plug-in. `held` says that we hold the charger (so switching to
    "free" releases it), `limit_a` the current to release it with, set within this plug
    cycle. `failsafe_restore_a` is the failsafe current found on the device before it was
    set to 0, given back when the charger is free again.
    """

    authorized: bool = False
    attribution: dict[str, Any] | None = None
    session_id: str | None = None
    seen_tag: str | None = None
    held: bool = False
    limit_a: float | None = None
    connected: bool | None = None
    cycle: dict[str, float] | None = None
    pending_tag: str | None = None
    pending_uid: str | None = None
    pending_at: datetime | None = None
    failsafe_restore_a: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        data = asdict(self)
        data["pending_at"] = _text(self.pending_at)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargerState:
        """Back from JSON."""
        return cls(
            authorized=bool(data.get("authorized", False)),
            attribution=data.get("attribution"),
            session_id=data.get("session_id"),
            seen_tag=data.get("seen_tag"),
            held=bool(data.get("held", False)),
            limit_a=data.get("limit_a"),
            connected=data.get("connected"),
            cycle=data.get("cycle"),
            pending_tag=data.get("pending_tag"),
            pending_uid=data.get("pending_uid"),
            pending_at=_time(data.get("pending_at")),
            failsafe_restore_a=data.get("failsafe_restore_a"),
        )
