"""The decision engine and the stored data, without Home Assistant running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_charging_monitor.authorization.engine import (
    Directory,
    credential_hash,
    decide,
    normalise_uid,
)
from custom_components.ev_charging_monitor.authorization.model import (
    AuthorizationMode,
    AuthorizationResult,
    ChargerState,
    Credential,
    CredentialKind,
    CredentialStatus,
    Person,
    Settings,
    UnknownCard,
    Vehicle,
)
from custom_components.ev_charging_monitor.authorization.store import (
    MAX_UNKNOWN,
    AuthorizationData,
)

SECRET = b"k" * 32
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
UID = "04:A2:B3:C4"


def _directory(**changes: object) -> tuple[Directory, Credential]:
    key = credential_hash(SECRET, CredentialKind.RFID, UID)
    credential = Credential(id="c1", kind=CredentialKind.RFID, key=key, person_id="p1")
    for name, value in changes.items():
        setattr(credential, name, value)
    directory = Directory(
        people={"p1": Person(id="p1", name="Alex")},
        vehicles={"v1": Vehicle(id="v1", name="ID.4", person_id="p1")},
        credentials={"c1": credential},
    )
    return directory, credential


def _decide(directory: Directory, uid: str = UID, **kwargs: object) -> AuthorizationResult:
    args: dict[str, object] = {"charger_id": "wb1", "now": NOW, "in_use": {}} | kwargs
    key = credential_hash(SECRET, CredentialKind.RFID, uid)
    return decide(directory, CredentialKind.RFID, key, **args).result  # type: ignore[arg-type]


def test_hash_is_keyed_normalised_and_kind_specific() -> None:
    """Same UID in any notation: same hash; another secret or kind: another hash."""
    a = credential_hash(SECRET, CredentialKind.RFID, "04:a2:b3:c4")
    assert a == credential_hash(SECRET, CredentialKind.RFID, " 04A2B3C4 ")
    assert a != credential_hash(b"x" * 32, CredentialKind.RFID, "04A2B3C4")
    assert a != credential_hash(SECRET, CredentialKind.NFC_TAG, "04A2B3C4")
    assert len(a) == 64
    assert "04A2B3C4" not in a.upper()
    assert normalise_uid("de-ad be:ef") == "DEADBEEF"


def test_accepted_with_person_and_only_vehicle() -> None:
    """An active card of a person with one vehicle: accepted, attributed to both."""
    directory, _ = _directory()
    key = credential_hash(SECRET, CredentialKind.RFID, UID)
    decision = decide(directory, CredentialKind.RFID, key, charger_id="wb1", now=NOW, in_use={})
    assert decision.accepted
    assert decision.person is not None
    assert decision.person.name == "Alex"
    assert decision.vehicle is not None
    assert decision.vehicle.name == "ID.4"


def test_unknown_is_invalid() -> None:
    """A card nobody registered."""
    directory, _ = _directory()
    assert _decide(directory, "11223344") is AuthorizationResult.INVALID


def test_blocked() -> None:
    """A blocked card."""
    directory, _ = _directory(status=CredentialStatus.BLOCKED)
    assert _decide(directory) is AuthorizationResult.BLOCKED


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "expected"),
    [
        (None, NOW, AuthorizationResult.EXPIRED),  # the end is exclusive
        (None, NOW + timedelta(seconds=1), AuthorizationResult.ACCEPTED),
        (NOW + timedelta(days=1), None, AuthorizationResult.EXPIRED),
        (NOW, NOW + timedelta(days=1), AuthorizationResult.ACCEPTED),
    ],
)
def test_validity_period(
    valid_from: datetime | None, valid_until: datetime | None, expected: AuthorizationResult
) -> None:
    """Outside the validity period a card is expired."""
    directory, _ = _directory(valid_from=valid_from, valid_until=valid_until)
    assert _decide(directory) is expected


def test_allowed_chargers() -> None:
    """A card limited to some chargers is blocked at the others."""
    directory, _ = _directory(chargers=["wb2"])
    assert _decide(directory) is AuthorizationResult.BLOCKED
    assert _decide(directory, charger_id="wb2") is AuthorizationResult.ACCEPTED


def test_single_session() -> None:
    """One session at a time: concurrent elsewhere, fine at its own charger."""
    directory, _ = _directory(single_session=True)
    assert _decide(directory, in_use={"c1": "wb2"}) is AuthorizationResult.CONCURRENT
    assert _decide(directory, in_use={"c1": "wb1"}) is AuthorizationResult.ACCEPTED
    relaxed, _ = _directory()
    assert _decide(relaxed, in_use={"c1": "wb2"}) is AuthorizationResult.ACCEPTED


def test_naive_time_refused() -> None:
    """Times must be aware."""
    directory, _ = _directory()
    with pytest.raises(ValueError, match="aware"):
        _decide(directory, now=NOW.replace(tzinfo=None))


def test_mode_default_deny_once_enabled() -> None:
    """Every charger is free until authorization is set up; then required by default."""
    settings = Settings()
    assert settings.mode_for("wb1") is AuthorizationMode.FREE
    settings.enabled = True
    assert settings.mode_for("wb1") is AuthorizationMode.REQUIRED
    settings.modes["wb2"] = AuthorizationMode.FREE
    assert settings.mode_for("wb2") is AuthorizationMode.FREE


def test_data_round_trip_keeps_records_out_of_the_store() -> None:
    """State survives JSON; people, vehicles and cards do not go there (they are subentries).

    A Store of the old format keeps its people, vehicles and cards as `legacy`, written
    back unchanged until they are moved into subentries.
    """
    directory, credential = _directory(
        valid_until=NOW, chargers=["wb1"], vehicle_id="v1", single_session=True
    )
    data = AuthorizationData(
        secret=SECRET,
        people=directory.people,
        vehicles=directory.vehicles,
        credentials=directory.credentials,
    )
    data.chargers["wb1"] = ChargerState(authorized=True, session_id="s", limit_a=16.0)
    data.add_unknown(
        UnknownCard(
            id="u1",
            kind=CredentialKind.RFID,
            key="abc",
            charger_id="wb1",
            charger_name="Garage",
            session_id="s",
            seen_at=NOW,
        )
    )
    saved = data.to_dict()
    assert not {"people", "vehicles", "credentials"} & saved.keys()
    again = AuthorizationData.from_dict(saved)
    assert again.chargers == data.chargers
    assert again.unknown == data.unknown
    assert again.secret == SECRET
    assert (again.people, again.vehicles, again.credentials, again.legacy) == ({}, {}, {}, None)

    old = {**saved, "people": [{"id": "p1", "name": "Alex", "user_id": None}]}
    old["credentials"] = [credential.to_dict()]
    legacy = AuthorizationData.from_dict(old)
    assert legacy.legacy == {"people": old["people"], "credentials": old["credentials"]}
    assert AuthorizationData.from_dict(legacy.to_dict()).legacy == legacy.legacy


def test_unknown_list_counts_repeats_and_is_bounded() -> None:
    """The same card counts up; only the last MAX_UNKNOWN cards are kept."""
    data = AuthorizationData.new()

    def card(key: str) -> UnknownCard:
        return UnknownCard(
            id=key,
            kind=CredentialKind.RFID,
            key=key,
            charger_id="wb1",
            charger_name="Garage",
            session_id=None,
            seen_at=NOW,
        )

    first = data.add_unknown(card("a"))
    assert data.add_unknown(card("a")) is first
    assert first.attempts == 2
    for index in range(MAX_UNKNOWN + 3):
        data.add_unknown(card(f"k{index}"))
    assert len(data.unknown) == MAX_UNKNOWN
    assert data.unknown[-1].key == f"k{MAX_UNKNOWN + 2}"
    assert data.pop_unknown("a") is None  # pushed out
