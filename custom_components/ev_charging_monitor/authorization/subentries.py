"""People, vehicles and cards as subentries of the Authorization entry: the source of truth.

Each person, vehicle and credential is one config subentry, so Home Assistant lists them on
the integration page with "Add person", "Add vehicle", "Add card" and lets the administrator
edit or remove each. The subentry's data is the record's JSON form (`model.py`), with the
record's own id inside, so links (card -> person, vehicle -> person) survive renames. A card's
data holds the keyed hash of its UID; the raw UID only with the administrator's opt-in.

The manager keeps an in-memory copy (`AuthorizationData.people` etc.) that `async_sync`
rebuilds whenever a subentry changes; decisions read that copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback

from ..const import DOMAIN, LOGGER
from .engine import short_hash
from .model import Credential, CredentialKind, Person, Vehicle
from .store import AuthorizationData

SUBENTRY_PERSON = "person"
SUBENTRY_VEHICLE = "vehicle"
SUBENTRY_CARD = "card"
# The Authorization config entry: data {"role": "authorization"}, one per installation.
CONF_ROLE = "role"
ROLE_AUTHORIZATION = "authorization"


def is_authorization_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether `entry` is the Authorization entry (not a device)."""
    return entry.data.get(CONF_ROLE) == ROLE_AUTHORIZATION


def authorization_entry(hass: HomeAssistant) -> ConfigEntry[Any] | None:
    """The installation's Authorization entry, if it was set up."""
    return next(
        (e for e in hass.config_entries.async_entries(DOMAIN) if is_authorization_entry(e)),
        None,
    )


def card_unique_id(kind: CredentialKind, key: str) -> str:
    """One subentry per card, tag or user: a second one with the same key is refused."""
    return f"{kind.value}:{key}"


def credential_title(credential: Credential, person: Person | None, user_name: str | None) -> str:
    """What the integration page lists: whose card, and which one (never a raw UID)."""
    if credential.label:
        shown = credential.label
    elif credential.kind is CredentialKind.HA_USER:
        shown = user_name or credential.key
    else:
        shown = short_hash(credential.key)
    return f"{person.name}: {shown}" if person is not None else shown


def person_subentry(person: Person) -> ConfigSubentry:
    """A new subentry for `person`."""
    return ConfigSubentry(
        data=MappingProxyType(person.to_dict()),
        subentry_type=SUBENTRY_PERSON,
        title=person.name,
        unique_id=person.id,
    )


def vehicle_subentry(vehicle: Vehicle) -> ConfigSubentry:
    """A new subentry for `vehicle`."""
    return ConfigSubentry(
        data=MappingProxyType(vehicle.to_dict()),
        subentry_type=SUBENTRY_VEHICLE,
        title=vehicle.name,
        unique_id=vehicle.id,
    )


def card_subentry(credential: Credential, title: str) -> ConfigSubentry:
    """A new subentry for `credential`."""
    return ConfigSubentry(
        data=MappingProxyType(credential.to_dict()),
        subentry_type=SUBENTRY_CARD,
        title=title,
        unique_id=card_unique_id(credential.kind, credential.key),
    )


def _of_type(entry: ConfigEntry[Any], kind: str) -> Iterable[ConfigSubentry]:
    return (s for s in entry.subentries.values() if s.subentry_type == kind)


def _parse[T](entry: ConfigEntry[Any], kind: str, parse: Callable[[dict[str, Any]], T]) -> list[T]:
    """The records of one kind; one that cannot be read is skipped and logged, not fatal."""
    records = []
    for subentry in _of_type(entry, kind):
        try:
            records.append(parse(dict(subentry.data)))
        except (KeyError, TypeError, ValueError) as err:
            LOGGER.warning("The %s %r cannot be read and is ignored: %r", kind, subentry.title, err)
    return records


def read_records(
    entry: ConfigEntry[Any],
) -> tuple[dict[str, Person], dict[str, Vehicle], dict[str, Credential]]:
    """People, vehicles and credentials from the entry's subentries."""
    people = {p.id: p for p in _parse(entry, SUBENTRY_PERSON, Person.from_dict)}
    vehicles = {v.id: v for v in _parse(entry, SUBENTRY_VEHICLE, Vehicle.from_dict)}
    credentials = {c.id: c for c in _parse(entry, SUBENTRY_CARD, Credential.from_dict)}
    return people, vehicles, credentials


@callback
def async_sync(hass: HomeAssistant, entry: ConfigEntry[Any], data: AuthorizationData) -> None:
    """Rebuild the in-memory copy; tidy up what a removal left behind.

    Removing a person removes their vehicles and cards (as before subentries); removing a
    vehicle leaves its cards, without a vehicle.
    """
    people, vehicles, credentials = read_records(entry)
    # Only a person that is gone takes their things along, not one that cannot be read.
    present = {s.data.get("id") for s in _of_type(entry, SUBENTRY_PERSON)}
    for subentry in list(entry.subentries.values()):
        person_id = subentry.data.get("person_id")
        if subentry.subentry_type == SUBENTRY_PERSON or person_id is None or person_id in present:
            continue
        hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
        vehicles.pop(subentry.data.get("id", ""), None)
        credentials.pop(subentry.data.get("id", ""), None)
    for subentry in list(_of_type(entry, SUBENTRY_CARD)):
        vehicle_id = subentry.data.get("vehicle_id")
        if vehicle_id is not None and vehicle_id not in {
            v.data.get("id") for v in _of_type(entry, SUBENTRY_VEHICLE)
        }:
            hass.config_entries.async_update_subentry(
                entry, subentry, data={**subentry.data, "vehicle_id": None}
            )
            if (credential := credentials.get(subentry.data.get("id", ""))) is not None:
                credential.vehicle_id = None
    data.people, data.vehicles, data.credentials = people, vehicles, credentials


@callback
def async_import_legacy(
    hass: HomeAssistant, entry: ConfigEntry[Any], data: AuthorizationData
) -> bool:
    """Move people, vehicles and cards of the old Store format into subentries, once.

    Ids, hashes, raw UIDs (kept only with the opt-in) and links stay as they were; a
    record whose subentry exists already is skipped, so a crash halfway repeats safely.
    """
    legacy = data.legacy
    if legacy is None:
        return False
    existing = {s.unique_id for s in entry.subentries.values()}
    people = {p.id: p for p in (Person.from_dict(item) for item in legacy.get("people", []))}
    new: list[ConfigSubentry] = [person_subentry(p) for p in people.values()]
    new += [
        vehicle_subentry(Vehicle.from_dict(item))
        for item in legacy.get("vehicles", [])
        if item.get("person_id") in people
    ]
    for item in legacy.get("credentials", []):
        credential = Credential.from_dict(item)
        if credential.person_id in people:
            person = people[credential.person_id]
            new.append(card_subentry(credential, credential_title(credential, person, None)))
    for subentry in new:
        if subentry.unique_id not in existing:
            existing.add(subentry.unique_id)
            hass.config_entries.async_add_subentry(entry, subentry)
    data.legacy = None
    return True


@callback
def async_forget_raw_uids(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Drop the raw UID of every card (the opt-in was switched off)."""
    for subentry in list(_of_type(entry, SUBENTRY_CARD)):
        if subentry.data.get("uid") is not None:
            hass.config_entries.async_update_subentry(
                entry, subentry, data={**subentry.data, "uid": None}
            )
