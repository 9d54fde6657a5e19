"""Managing authorization in the UI: the options of the Authorization config entry.

Why a config entry of its own: people, vehicles and credentials belong to the installation,
not to one charger, and an options flow is administrator-only, translated and needs no
frontend code. Each menu item is one short form that saves to the authorization Store
at once (the entry's own options stay empty, so nothing reloads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.components.http import KEY_HASS_USER
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import current_request
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateTimeSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import dt as dt_util

from .engine import short_hash
from .manager import AUTHORIZATION, AuthorizationManager, ResolveAction
from .model import (
    DEFAULT_CARD_WINDOW_S,
    AuthorizationMode,
    Credential,
    CredentialKind,
    CredentialStatus,
    Person,
    Vehicle,
    new_id,
)

MENU = [
    "add_person",
    "edit_person",
    "add_vehicle",
    "add_credential",
    "edit_credential",
    "unknown_cards",
    "chargers",
    "settings",
]
F_NAME = "name"
F_USER = "user"
F_PERSON = "person"
F_REMOVE = "remove"
F_KIND = "kind"
F_VALUE = "value"
F_LABEL = "label"
F_STATUS = "status"
F_VALID_FROM = "valid_from"
F_VALID_UNTIL = "valid_until"
F_SINGLE = "single_session"
F_CHARGERS = "chargers"
F_VEHICLE = "vehicle"
F_CREDENTIAL = "credential"
F_CARD = "card"
F_ACTION = "action"
F_PERSON_NAME = "person_name"
F_REQUIRED = "required_chargers"
F_DEFAULT_MODE = "default_mode"
F_RAW = "store_raw_uids"
F_NOTIFY = "notify_unknown"
F_NOTIFY_SERVICE = "notify_service"
F_CARD_WINDOW = "card_window_s"


def _select(
    options: list[SelectOptionDict], *, multiple: bool = False, key: str | None = None
) -> SelectSelector:
    config = SelectSelectorConfig(
        options=options, multiple=multiple, mode=SelectSelectorMode.DROPDOWN
    )
    if key is not None:
        config["translation_key"] = key
    return SelectSelector(config)


def _enum(values: list[str], key: str) -> SelectSelector:
    return _select([SelectOptionDict(value=v, label=v) for v in values], key=key)


def _local_time(value: str | None) -> datetime | None:
    """A DateTimeSelector value (local wall time) as aware UTC."""
    if not value:
        return None
    moment = dt_util.parse_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def _selector_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return dt_util.as_local(value).strftime("%Y-%m-%d %H:%M:%S")


def setup_schema(manager: AuthorizationManager) -> vol.Schema:
    """The first form: which chargers are held, and what chargers added later are."""
    chargers = [SelectOptionDict(value=c.entry_id, label=c.name) for c in manager.chargers.values()]
    return vol.Schema(
        {
            vol.Optional(F_REQUIRED, default=[c["value"] for c in chargers]): _select(
                chargers, multiple=True
            ),
            vol.Required(F_DEFAULT_MODE, default=AuthorizationMode.REQUIRED.value): _enum(
                [m.value for m in AuthorizationMode], "authorization_mode"
            ),
        }
    )


async def async_apply_setup(manager: AuthorizationManager, user_input: dict[str, Any]) -> None:
    """Modes as chosen; a session running at a chosen charger goes on as the administrator's.

    The administrator is the user of the request that submits the form (none when the flow
    is not driven over HTTP); the chargers are held only once the entry is set up.
    """
    required = set(user_input.get(F_REQUIRED) or [])
    settings = manager.data.settings
    settings.default_mode = AuthorizationMode(
        user_input.get(F_DEFAULT_MODE, AuthorizationMode.REQUIRED)
    )
    request = current_request.get()
    user = None if request is None else request.get(KEY_HASS_USER)
    for charger_id, charger in manager.chargers.items():
        if charger_id not in required:
            settings.modes[charger_id] = AuthorizationMode.FREE
            continue
        settings.modes[charger_id] = AuthorizationMode.REQUIRED
        if charger.vehicle_connected and not charger.state.authorized:
            await manager.async_accept_administrator(
                charger, None if user is None else user.id, reason="set_up"
            )
    await manager.async_save()


class AuthorizationOptionsFlow(OptionsFlow):
    """People, vehicles, credentials, unknown cards, charger modes, privacy."""

    def __init__(self) -> None:
        """Nothing picked yet."""
        self._person_id: str | None = None
        self._credential_id: str | None = None

    @property
    def manager(self) -> AuthorizationManager:
        """The installation's authorization."""
        return self.hass.data[AUTHORIZATION]

    async def _done(self) -> ConfigFlowResult:
        await self.manager.async_save()
        return self.async_create_entry(data={})

    # -- choices --------------------------------------------------------------------------

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

    def _credential_label(self, credential: Credential) -> str:
        person = self.manager.data.people.get(credential.person_id)
        shown = (
            credential.key
            if credential.kind is CredentialKind.HA_USER
            else credential.uid or short_hash(credential.key)
        )
        name = credential.label or shown
        return f"{person.name if person else '?'}: {credential.kind.value} {name}"

    # -- menu -----------------------------------------------------------------------------

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Open the menu."""
        return await self.async_step_authorization()

    async def async_step_authorization(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What to manage."""
        return self.async_show_menu(
            step_id="authorization",
            menu_options=MENU,
            description_placeholders={
                "people": str(len(self.manager.data.people)),
                "credentials": str(len(self.manager.data.credentials)),
                "unknown": str(len(self.manager.data.unknown)),
            },
        )

    # -- people and vehicles --------------------------------------------------------------

    async def async_step_add_person(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new person."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[F_NAME].strip()
            if not name:
                errors[F_NAME] = "name_required"
            else:
                person = Person(id=new_id(), name=name, user_id=user_input.get(F_USER))
                self.manager.data.people[person.id] = person
                return await self._done()
        return self.async_show_form(
            step_id="add_person",
            data_schema=vol.Schema(
                {
                    vol.Required(F_NAME): TextSelector(),
                    vol.Optional(F_USER): _select(await self._users()),
                }
            ),
            errors=errors,
        )

    async def async_step_edit_person(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a person to change or remove."""
        if not self.manager.data.people:
            return self.async_abort(reason="no_people")
        if user_input is not None:
            self._person_id = user_input[F_PERSON]
            return await self.async_step_person()
        return self.async_show_form(
            step_id="edit_person",
            data_schema=vol.Schema({vol.Required(F_PERSON): _select(self._people())}),
        )

    async def async_step_person(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Rename, link to a user, or remove (with their vehicles and credentials)."""
        data = self.manager.data
        person = data.people[str(self._person_id)]
        if user_input is not None:
            if user_input.get(F_REMOVE):
                data.remove_person(person.id)
            else:
                person.name = user_input[F_NAME].strip() or person.name
                person.user_id = user_input.get(F_USER)
            return await self._done()
        schema = vol.Schema(
            {
                vol.Required(F_NAME): TextSelector(),
                vol.Optional(F_USER): _select(await self._users()),
                vol.Required(F_REMOVE, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="person",
            data_schema=self.add_suggested_values_to_schema(
                schema, {F_NAME: person.name, F_USER: person.user_id}
            ),
            description_placeholders={"name": person.name},
        )

    async def async_step_add_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A vehicle of a person."""
        if not self.manager.data.people:
            return self.async_abort(reason="no_people")
        if user_input is not None:
            vehicle = Vehicle(
                id=new_id(), name=user_input[F_NAME].strip(), person_id=user_input[F_PERSON]
            )
            self.manager.data.vehicles[vehicle.id] = vehicle
            return await self._done()
        return self.async_show_form(
            step_id="add_vehicle",
            data_schema=vol.Schema(
                {
                    vol.Required(F_NAME): TextSelector(),
                    vol.Required(F_PERSON): _select(self._people()),
                }
            ),
        )

    # -- credentials ----------------------------------------------------------------------

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

    @staticmethod
    def _apply_rules(credential: Credential, user_input: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        credential.label = (user_input.get(F_LABEL) or "").strip()
        credential.status = CredentialStatus(user_input[F_STATUS])
        credential.valid_from = _local_time(user_input.get(F_VALID_FROM))
        credential.valid_until = _local_time(user_input.get(F_VALID_UNTIL))
        if (
            credential.valid_from is not None
            and credential.valid_until is not None
            and credential.valid_until <= credential.valid_from
        ):
            errors[F_VALID_UNTIL] = "invalid_period"
        credential.single_session = bool(user_input[F_SINGLE])
        credential.chargers = list(user_input.get(F_CHARGERS) or []) or None
        credential.vehicle_id = user_input.get(F_VEHICLE) or None
        return errors

    async def async_step_add_credential(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A card UID, a tag id or a user, with its rules."""
        manager = self.manager
        if not manager.data.people:
            return self.async_abort(reason="no_people")
        errors: dict[str, str] = {}
        if user_input is not None:
            kind = CredentialKind(user_input[F_KIND])
            value = (user_input.get(F_VALUE) or "").strip()
            user = user_input.get(F_USER)
            if kind is CredentialKind.HA_USER:
                key = user or ""
                if not user:
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
                person_id=user_input[F_PERSON],
                uid=manager.raw(value) if kind is CredentialKind.RFID else None,
            )
            errors |= self._apply_rules(credential, user_input)
            if not errors:
                manager.data.credentials[credential.id] = credential
                # A card that was unknown until now is no longer waiting for a decision.
                manager.data.unknown = [c for c in manager.data.unknown if c.key != key]
                return await self._done()
        schema = {
            vol.Required(F_PERSON): _select(self._people()),
            vol.Required(F_KIND, default=CredentialKind.RFID.value): _enum(
                [k.value for k in CredentialKind], "credential_kind"
            ),
            vol.Optional(F_VALUE): TextSelector(),
            vol.Optional(F_USER): _select(await self._users()),
            **self._rules_schema(),
        }
        return self.async_show_form(
            step_id="add_credential",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), user_input),
            errors=errors,
        )

    async def async_step_edit_credential(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a credential."""
        credentials = self.manager.data.credentials
        if not credentials:
            return self.async_abort(reason="no_credentials")
        if user_input is not None:
            self._credential_id = user_input[F_CREDENTIAL]
            return await self.async_step_credential()
        options = [
            SelectOptionDict(value=c.id, label=self._credential_label(c))
            for c in credentials.values()
        ]
        return self.async_show_form(
            step_id="edit_credential",
            data_schema=vol.Schema({vol.Required(F_CREDENTIAL): _select(options)}),
        )

    async def async_step_credential(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Block, limit, or remove a credential."""
        data = self.manager.data
        credential = data.credentials[str(self._credential_id)]
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(F_REMOVE):
                del data.credentials[credential.id]
                return await self._done()
            changed = Credential.from_dict(credential.to_dict())
            errors = self._apply_rules(changed, user_input)
            if not errors:
                data.credentials[credential.id] = changed
                return await self._done()
        schema = vol.Schema(
            {**self._rules_schema(), vol.Required(F_REMOVE, default=False): BooleanSelector()}
        )
        current = {
            F_LABEL: credential.label,
            F_STATUS: credential.status.value,
            F_VALID_FROM: _selector_time(credential.valid_from),
            F_VALID_UNTIL: _selector_time(credential.valid_until),
            F_SINGLE: credential.single_session,
            F_CHARGERS: credential.chargers or [],
            F_VEHICLE: credential.vehicle_id,
        }
        return self.async_show_form(
            step_id="credential",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {k: v for k, v in current.items() if v is not None}
            ),
            errors=errors,
            description_placeholders={"credential": self._credential_label(credential)},
        )

    # -- unknown cards ----------------------------------------------------------------------

    async def async_step_unknown_cards(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Allow once, add to a person, or ignore one of the last unknown cards."""
        manager = self.manager
        if not manager.data.unknown:
            return self.async_abort(reason="no_unknown_cards")
        errors: dict[str, str] = {}
        if user_input is not None:
            action = user_input[F_ACTION]
            person_id = user_input.get(F_PERSON)
            person_name = user_input.get(F_PERSON_NAME)
            if action == ResolveAction.ADD_TO_PERSON and not person_id and not person_name:
                errors[F_PERSON] = "person_required"
            else:
                try:
                    await manager.async_resolve(
                        user_input[F_CARD],
                        action,
                        person_id=person_id,
                        person_name=person_name,
                        label=user_input.get(F_LABEL) or "",
                    )
                except HomeAssistantError as err:
                    errors["base"] = err.translation_key or "unknown"
                else:
                    return self.async_create_entry(data={})
        options = [
            SelectOptionDict(
                value=card.id,
                label=(
                    f"{card.uid or short_hash(card.key)} ({card.kind.value}) "
                    f"{card.charger_name}, "
                    f"{dt_util.as_local(card.seen_at).strftime('%Y-%m-%d %H:%M')}, "
                    f"{card.attempts}x"
                ),
            )
            for card in reversed(manager.data.unknown)
        ]
        schema = vol.Schema(
            {
                vol.Required(F_CARD): _select(options),
                vol.Required(F_ACTION, default=ResolveAction.ADD_TO_PERSON): _enum(
                    list(ResolveAction.ALL), "unknown_card_action"
                ),
                vol.Optional(F_PERSON): _select(self._people()),
                vol.Optional(F_PERSON_NAME): TextSelector(),
                vol.Optional(F_LABEL): TextSelector(),
            }
        )
        return self.async_show_form(
            step_id="unknown_cards",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    # -- chargers and settings --------------------------------------------------------------

    async def async_step_chargers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which chargers are held until a credential is accepted."""
        settings = self.manager.data.settings
        if user_input is not None:
            required = set(user_input.get(F_REQUIRED) or [])
            settings.default_mode = AuthorizationMode(user_input[F_DEFAULT_MODE])
            before = self.manager.modes()
            for charger_id in self.manager.chargers:
                settings.modes[charger_id] = (
                    AuthorizationMode.REQUIRED if charger_id in required else AuthorizationMode.FREE
                )
            result = await self._done()
            self.manager.async_modes_changed(before)
            return result
        current = [
            charger_id
            for charger_id in self.manager.chargers
            if settings.mode_for(charger_id) is AuthorizationMode.REQUIRED
        ]
        schema = vol.Schema(
            {
                vol.Optional(F_REQUIRED): _select(self._chargers(), multiple=True),
                vol.Required(F_DEFAULT_MODE): _enum(
                    [m.value for m in AuthorizationMode], "authorization_mode"
                ),
            }
        )
        return self.async_show_form(
            step_id="chargers",
            data_schema=self.add_suggested_values_to_schema(
                schema, {F_REQUIRED: current, F_DEFAULT_MODE: settings.default_mode.value}
            ),
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Privacy and notifications."""
        data = self.manager.data
        if user_input is not None:
            data.settings.store_raw_uids = bool(user_input[F_RAW])
            data.settings.notify_unknown = bool(user_input[F_NOTIFY])
            data.settings.notify_service = (user_input.get(F_NOTIFY_SERVICE) or "").strip() or None
            data.settings.card_window_s = int(user_input.get(F_CARD_WINDOW, DEFAULT_CARD_WINDOW_S))
            if not data.settings.store_raw_uids:
                data.forget_raw_uids()
            return await self._done()
        schema = vol.Schema(
            {
                vol.Required(F_RAW): BooleanSelector(),
                vol.Required(F_NOTIFY): BooleanSelector(),
                vol.Optional(F_NOTIFY_SERVICE): TextSelector(),
                vol.Required(F_CARD_WINDOW): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=900,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    F_RAW: data.settings.store_raw_uids,
                    F_NOTIFY: data.settings.notify_unknown,
                    F_NOTIFY_SERVICE: data.settings.notify_service,
                    F_CARD_WINDOW: data.settings.card_window_s,
                },
            ),
        )
