"""Add person, Add vehicle, Add card: the subentry flows of the Authorization entry.

Each flow has a "user" step (add) and a "reconfigure" step (edit); removing is Home
Assistant's own "Delete" on the subentry (`subentries.async_sync` tidies up after it).
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateTimeSelector,
    SelectOptionDict,
    TextSelector,
)

from .engine import short_hash
from .flow import _enum, _local_time, _select, _selector_time
from .manager import AUTHORIZATION, AuthorizationManager
from .model import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Person,
    Vehicle,
    new_id,
)
from .subentries import card_unique_id, credential_title

F_NAME = "name"
F_USER = "user"
F_PERSON = "person"
F_KIND = "kind"
F_VALUE = "value"
F_LABEL = "label"
F_STATUS = "status"
F_VALID_FROM = "valid_from"
F_VALID_UNTIL = "valid_until"
F_SINGLE = "single_session"
F_CHARGERS = "chargers"
F_VEHICLE = "vehicle"


class _AuthorizationSubentryFlow(ConfigSubentryFlow):
    """What the three flows share: the manager and the choices they offer."""

    @property
    def manager(self) -> AuthorizationManager:
        """The installation's authorization."""
        return self.hass.data[AUTHORIZATION]

    def _people(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(value=p.id, label=p.name)
            for p in sorted(self.manager.data.people.values(), key=lambda p: p.name)
        ]

    async def _users(self) -> list[SelectOptionDict]:
        users = await self.hass.auth.async_get_users()
        return [
            SelectOptionDict(value=u.id, label=u.name or u.id)
            for u in users
            if not u.system_generated and u.is_active
        ]

    def _chargers(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(value=c.entry_id, label=c.name) for c in self.manager.chargers.values()
        ]

    def _vehicles(self) -> list[SelectOptionDict]:
        data = self.manager.data
        return [
            SelectOptionDict(value=v.id, label=f"{v.name} ({data.people[v.person_id].name})")
            for v in data.vehicles.values()
            if v.person_id in data.people
        ]

    def _check_person(self, person_id: str | None, errors: dict[str, str]) -> Person | None:
        person = self.manager.data.people.get(person_id or "")
        if person is None:
            errors[F_PERSON] = "person_not_found"
        return person

    def _save(self, name: str, item: Person | Vehicle, *, new: bool) -> SubentryFlowResult:
        """Add the person or vehicle, or update the one being reconfigured."""
        if new:
            return self.async_create_entry(title=name, data=item.to_dict(), unique_id=item.id)
        return self.async_update_and_abort(
            self._get_entry(), self._get_reconfigure_subentry(), title=name, data=item.to_dict()
        )


class PersonSubentryFlow(_AuthorizationSubentryFlow):
    """Someone who charges, optionally a Home Assistant user."""

    async def _form(
        self, step_id: str, user_input: dict[str, Any] | None, person: Person | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get(F_NAME, "")).strip()
            if not name:
                errors[F_NAME] = "name_required"
            else:
                changed = Person(
                    id=new_id() if person is None else person.id,
                    name=name,
                    user_id=user_input.get(F_USER) or None,
                )
                return self._save(name, changed, new=person is None)
        schema = vol.Schema(
            {
                vol.Required(F_NAME): TextSelector(),
                vol.Optional(F_USER): _select(await self._users()),
            }
        )
        current = {} if person is None else {F_NAME: person.name, F_USER: person.user_id}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a person."""
        return await self._form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename a person or link them to another user."""
        person = Person.from_dict(dict(self._get_reconfigure_subentry().data))
        return await self._form("reconfigure", user_input, person)


class VehicleSubentryFlow(_AuthorizationSubentryFlow):
    """A vehicle of a person: sessions of their cards are attributed to it."""

    async def _form(
        self, step_id: str, user_input: dict[str, Any] | None, vehicle: Vehicle | None
    ) -> SubentryFlowResult:
        if not self.manager.data.people:
            return self.async_abort(reason="no_people")
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get(F_NAME, "")).strip()
            if not name:
                errors[F_NAME] = "name_required"
            person = self._check_person(user_input.get(F_PERSON), errors)
            if not errors and person is not None:
                changed = Vehicle(
                    id=new_id() if vehicle is None else vehicle.id, name=name, person_id=person.id
                )
                return self._save(name, changed, new=vehicle is None)
        schema = vol.Schema(
            {
                vol.Required(F_NAME): TextSelector(),
                vol.Required(F_PERSON): _select(self._people()),
            }
        )
        current = {} if vehicle is None else {F_NAME: vehicle.name, F_PERSON: vehicle.person_id}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a vehicle."""
        return await self._form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename a vehicle or give it to another person."""
        vehicle = Vehicle.from_dict(dict(self._get_reconfigure_subentry().data))
        return await self._form("reconfigure", user_input, vehicle)


class CardSubentryFlow(_AuthorizationSubentryFlow):
    """An RFID card, an NFC tag or a Home Assistant user, with its rules."""

    def _person_schema(self) -> dict[Any, Any]:
        return {vol.Required(F_PERSON): _select(self._people())}

    def _rules_schema(self) -> dict[Any, Any]:
        return {
            vol.Optional(F_LABEL): TextSelector(),
            vol.Required(F_STATUS, default=CredentialStatus.ACTIVE.value): _enum(
                [s.value for s in CredentialStatus], "credential_status"
            ),
            vol.Optional(F_VALID_FROM): DateTimeSelector(),
            vol.Optional(F_VALID_UNTIL): DateTimeSelector(),
            vol.Required(F_SINGLE, default=False): BooleanSelector(),
            vol.Optional(F_CHARGERS): _select(self._chargers(), multiple=True),
            vol.Optional(F_VEHICLE): _select(self._vehicles()),
        }

    def _apply_rules(self, credential: Credential, user_input: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        if (person := self._check_person(user_input.get(F_PERSON), errors)) is not None:
            credential.person_id = person.id
        credential.label = str(user_input.get(F_LABEL) or "").strip()
        credential.status = CredentialStatus(user_input.get(F_STATUS, CredentialStatus.ACTIVE))
        credential.valid_from = _local_time(user_input.get(F_VALID_FROM))
        credential.valid_until = _local_time(user_input.get(F_VALID_UNTIL))
        if (
            credential.valid_from is not None
            and credential.valid_until is not None
            and credential.valid_until <= credential.valid_from
        ):
            errors[F_VALID_UNTIL] = "invalid_period"
        credential.single_session = bool(user_input.get(F_SINGLE, False))
        credential.chargers = list(user_input.get(F_CHARGERS) or []) or None
        vehicle_id = user_input.get(F_VEHICLE) or None
        if vehicle_id is not None and vehicle_id not in self.manager.data.vehicles:
            vehicle_id = None
        credential.vehicle_id = vehicle_id
        return errors

    async def _title(self, credential: Credential) -> str:
        user_name = None
        if credential.kind is CredentialKind.HA_USER:
            user = await self.hass.auth.async_get_user(credential.key)
            user_name = None if user is None else user.name
        person = self.manager.data.people.get(credential.person_id)
        return credential_title(credential, person, user_name)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a card UID, a tag id or a user: stored as its keyed hash (or the user id)."""
        manager = self.manager
        if not manager.data.people:
            return self.async_abort(reason="no_people")
        errors: dict[str, str] = {}
        if user_input is not None:
            kind = CredentialKind(user_input.get(F_KIND, CredentialKind.RFID))
            value = str(user_input.get(F_VALUE) or "").strip()
            if kind is CredentialKind.HA_USER:
                key = str(user_input.get(F_USER) or "")
                if not key:
                    errors[F_USER] = "user_required"
            else:
                key = manager.hash(kind, value) if value else ""
                if not value:
                    errors[F_VALUE] = "value_required"
            if key and manager.data.find(kind, key) is not None:
                errors["base"] = "already_registered"
            credential = Credential(
                id=new_id(),
                kind=kind,
                key=key,
                person_id="",
                uid=manager.raw(value) if kind is CredentialKind.RFID else None,
            )
            errors |= self._apply_rules(credential, user_input)
            if not errors:
                # A card that was unknown until now is no longer waiting for a decision.
                manager.data.unknown = [c for c in manager.data.unknown if c.key != key]
                await manager.async_save()
                return self.async_create_entry(
                    title=await self._title(credential),
                    data=credential.to_dict(),
                    unique_id=card_unique_id(kind, key),
                )
        schema = {
            **self._person_schema(),
            vol.Required(F_KIND, default=CredentialKind.RFID.value): _enum(
                [k.value for k in CredentialKind], "credential_kind"
            ),
            vol.Optional(F_VALUE): TextSelector(),
            vol.Optional(F_USER): _select(await self._users()),
            **self._rules_schema(),
        }
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change whose it is, block it, limit it; the card itself cannot change."""
        subentry = self._get_reconfigure_subentry()
        credential = Credential.from_dict(dict(subentry.data))
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._apply_rules(credential, user_input)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=await self._title(credential),
                    data=credential.to_dict(),
                )
        current = {
            F_PERSON: credential.person_id,
            F_LABEL: credential.label,
            F_STATUS: credential.status.value,
            F_VALID_FROM: _selector_time(credential.valid_from),
            F_VALID_UNTIL: _selector_time(credential.valid_until),
            F_SINGLE: credential.single_session,
            F_CHARGERS: credential.chargers or [],
            F_VEHICLE: credential.vehicle_id,
        }
        shown = (
            credential.key
            if credential.kind is CredentialKind.HA_USER
            else credential.uid or short_hash(credential.key)
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({**self._person_schema(), **self._rules_schema()}),
                user_input or {k: v for k, v in current.items() if v is not None},
            ),
            errors=errors,
            description_placeholders={"kind": credential.kind.value, "card": shown},
        )
