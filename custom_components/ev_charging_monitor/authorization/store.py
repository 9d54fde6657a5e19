"""The authorization data and where it is kept: one Store per installation.

The Store holds the per-installation HMAC secret (generated once), the settings, the last
unknown cards and each charger's lock state. People, vehicles and credentials are subentries
of the Authorization entry (`subentries.py`); a Store of the old format still has them, kept
here as `legacy` until they are moved into subentries. Changes are
written at once (not delayed): a lock state that is lost by a crash would still be safe
(missing means locked), but an approval should not be.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN
from .engine import Directory
from .model import ChargerState, Credential, CredentialKind, Person, Settings, UnknownCard, Vehicle

STORAGE_VERSION = 1
STORAGE_KEY = f"{DOMAIN}.authorization"
# How many unknown cards are kept for approval (the oldest is dropped first).
MAX_UNKNOWN = 10
# Where the old format kept people, vehicles and credentials.
LEGACY_KEYS = ("people", "vehicles", "credentials")


@dataclass
class AuthorizationData:
    """Everything authorization keeps, in memory."""

    secret: bytes
    settings: Settings = field(default_factory=Settings)
    # In-memory copies of the Authorization entry's subentries (never saved here).
    people: dict[str, Person] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    unknown: list[UnknownCard] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # hashes not to notify about again
    chargers: dict[str, ChargerState] = field(default_factory=dict)
    # People, vehicles and credentials of the old format, until moved into subentries.
    legacy: dict[str, list[dict[str, Any]]] | None = None

    @classmethod
    def new(cls) -> AuthorizationData:
        """A fresh installation: a new random secret and nothing else."""
        return cls(secret=secrets.token_bytes(32))

    @property
    def directory(self) -> Directory:
        """The view decisions use."""
        return Directory(self.people, self.vehicles, self.credentials)

    def charger(self, charger_id: str) -> ChargerState:
        """A charger's state (a new, locked one if there is none)."""
        return self.chargers.setdefault(charger_id, ChargerState())

    # -- unknown cards --------------------------------------------------------------------

    def add_unknown(self, card: UnknownCard) -> UnknownCard:
        """Remember an unknown card (a repeated one counts up instead)."""
        for known in self.unknown:
            if known.kind is card.kind and known.key == card.key:
                known.attempts += 1
                known.seen_at = card.seen_at
                known.charger_id = card.charger_id
                known.charger_name = card.charger_name
                known.session_id = card.session_id
                known.uid = card.uid
                return known
        self.unknown.append(card)
        del self.unknown[:-MAX_UNKNOWN]
        return card

    def pop_unknown(self, card_id: str) -> UnknownCard | None:
        """Take a card off the list."""
        for index, card in enumerate(self.unknown):
            if card.id == card_id:
                return self.unknown.pop(index)
        return None

    def forget_raw_uids(self) -> None:
        """Drop every raw UID (the opt-in was switched off)."""
        for credential in self.credentials.values():
            credential.uid = None
        for card in self.unknown:
            card.uid = None

    def find(self, kind: CredentialKind, key: str) -> Credential | None:
        """The credential of that kind and key."""
        return self.directory.find(kind, key)

    # -- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "secret": self.secret.hex(),
            "settings": self.settings.to_dict(),
            **(self.legacy or {}),
            "unknown": [u.to_dict() for u in self.unknown],
            "ignored": list(self.ignored),
            "chargers": {key: state.to_dict() for key, state in self.chargers.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorizationData:
        """Back from JSON."""
        legacy = {key: list(data[key]) for key in LEGACY_KEYS if data.get(key)}
        return cls(
            secret=bytes.fromhex(data["secret"]),
            settings=Settings.from_dict(data.get("settings", {})),
            unknown=[UnknownCard.from_dict(item) for item in data.get("unknown", [])],
            ignored=list(data.get("ignored", [])),
            chargers={
                key: ChargerState.from_dict(value)
                for key, value in data.get("chargers", {}).items()
            },
            legacy=legacy or None,
        )


class AuthorizationStore:
    """Loads and saves the data."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing is read until async_load()."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True
        )

    async def async_load(self) -> AuthorizationData:
        """The stored data; a new installation gets its secret now, saved at once."""
        stored = await self._store.async_load()
        if stored is not None:
            return AuthorizationData.from_dict(stored)
        data = AuthorizationData.new()
        await self.async_save(data)
        return data

    async def async_save(self, data: AuthorizationData) -> None:
        """Write everything now."""
        await self._store.async_save(data.to_dict())
