"""The installation's authorization: decisions, events, unknown cards and NFC tags.

One manager per Home Assistant, loaded in `async_setup` (before any charger entry), so a
charger's lock state is known from its first poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, LOGGER
from .charger import ChargerAuthorization
from .engine import Decision, credential_hash, decide, short_hash
from .model import (
    AuthorizationMode,
    AuthorizationResult,
    Credential,
    CredentialKind,
    Person,
    UnknownCard,
    new_id,
)
from .store import AuthorizationData, AuthorizationStore
from .subentries import (
    async_sync,
    authorization_entry,
    card_subentry,
    credential_title,
    person_subentry,
)

AUTHORIZATION: HassKey[AuthorizationManager] = HassKey(f"{DOMAIN}_authorization")
EVENT_AUTHORIZATION = f"{DOMAIN}_authorization"
EVENT_TAG_SCANNED = "tag_scanned"
# Fired by the companion app when a notification's button is pressed.
EVENT_NOTIFICATION_ACTION = "mobile_app_notification_action"
ACTION_PREFIX = "EVCM_CARD_"
NOTIFICATION_PREFIX = f"{DOMAIN}_unknown_card_"


class ResolveAction:
    """What the administrator decides about an unknown card."""

    ALLOW_ONCE = "allow_once"
    ADD_TO_PERSON = "add_to_person"
    IGNORE = "ignore"
    ALL = (ALLOW_ONCE, ADD_TO_PERSON, IGNORE)


async def async_get_manager(hass: HomeAssistant) -> AuthorizationManager:
    """The installation's manager, loaded on first use (a config flow may come first)."""
    if (manager := hass.data.get(AUTHORIZATION)) is None:
        manager = hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    return manager


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


class AuthorizationManager:
    """Decides, records and tells."""

    def __init__(self, hass: HomeAssistant, store: AuthorizationStore, data: AuthorizationData):
        """Use `async_load` to build one."""
        self.hass = hass
        self.store = store
        self.data = data
        self.chargers: dict[str, ChargerAuthorization] = {}
        self._directory_listeners: list[Callable[[], None]] = []

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> AuthorizationManager:
        """Read the Store and the Authorization entry's subentries; listen for NFC tags.

        Config entries are known (not necessarily set up) by now: people and cards count
        from a charger's first poll on.
        """
        store = AuthorizationStore(hass)
        manager = cls(hass, store, await store.async_load())
        if (entry := authorization_entry(hass)) is not None:
            async_sync(hass, entry, manager.data)
        hass.bus.async_listen(EVENT_TAG_SCANNED, manager._tag_scanned)
        hass.bus.async_listen(EVENT_NOTIFICATION_ACTION, manager._notification_action)
        return manager

    async def async_save(self) -> None:
        """Write the data now."""
        await self.store.async_save(self.data)

    def hash(self, kind: CredentialKind, value: str) -> str:
        """The keyed hash of a UID or tag id."""
        return credential_hash(self.data.secret, kind, value)

    def raw(self, uid: str | None) -> str | None:
        """A raw UID, kept only with the administrator's opt-in."""
        return uid if self.data.settings.store_raw_uids else None

    @callback
    def async_register(self, charger: ChargerAuthorization) -> None:
        """A charger entry is loaded."""
        self.chargers[charger.entry_id] = charger

    @callback
    def async_unregister(self, charger: ChargerAuthorization) -> None:
        """A charger entry is unloaded."""
        if self.chargers.get(charger.entry_id) is charger:
            del self.chargers[charger.entry_id]

    @callback
    def async_listen_directory(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after people, vehicles, cards or settings changed."""
        self._directory_listeners.append(listener)
        return lambda: self._directory_listeners.remove(listener)

    @callback
    def async_directory_changed(self) -> None:
        """People, vehicles, cards or settings changed (OCPP local lists follow)."""
        for listener in list(self._directory_listeners):
            listener()

    def in_use(self) -> dict[str, str]:
        """Credential id -> charger it authorises now."""
        return {
            str(state.attribution["credential_id"]): charger_id
            for charger_id, state in self.data.chargers.items()
            if state.authorized
            and state.attribution is not None
            and state.attribution.get("credential_id")
        }

    # -- attempts -------------------------------------------------------------------------

    async def async_attempt(
        self,
        charger: ChargerAuthorization,
        kind: CredentialKind,
        key: str,
        *,
        uid: str | None = None,
    ) -> Decision:
        """Decide on a credential presented at `charger`, tell everyone, act on it.

        `key` is the hash for cards and tags, the user id for Home Assistant users.
        """
        decision = decide(
            self.data.directory,
            kind,
            key,
            charger_id=charger.entry_id,
            now=dt_util.utcnow(),
            in_use=self.in_use(),
        )
        attribution = await self._attribution(kind, key, decision, uid)
        event: dict[str, Any] = {
            "entry_id": charger.entry_id,
            "charger": charger.name,
            "method": kind.value,
            "tag_hash": attribution["tag_hash"],
            "user_id": key if kind is CredentialKind.HA_USER else None,
            "result": decision.result.value,
            "reason": decision.reason,
            "person": attribution["person"],
            "person_id": attribution["person_id"],
            "vehicle": attribution["vehicle"],
            "mode": charger.mode.value,
        }
        if "tag_uid" in attribution:
            event["tag_uid"] = attribution["tag_uid"]
        if decision.result is AuthorizationResult.INVALID and kind is not CredentialKind.HA_USER:
            card = await self._capture(charger, kind, key, uid)
            event["unknown_card_id"] = None if card is None else card.id
        self.hass.bus.async_fire(EVENT_AUTHORIZATION, event)
        LOGGER.info(
            "Authorization at %s by %s %s: %s (%s)",
            charger.name,
            kind.value,
            short_hash(key) if kind is not CredentialKind.HA_USER else key,
            decision.result.value,
            decision.reason,
        )
        if decision.accepted:
            await charger.async_accept(attribution)
        elif charger.mode is AuthorizationMode.FREE:
            await charger.async_attribute(attribution)
        await self.async_save()
        return decision

    async def _attribution(
        self, kind: CredentialKind, key: str, decision: Decision, uid: str | None
    ) -> dict[str, Any]:
        person = decision.person
        user_id = key if kind is CredentialKind.HA_USER else (person and person.user_id)
        user_name = None
        if user_id and (user := await self.hass.auth.async_get_user(user_id)) is not None:
            user_name = user.name
        attribution: dict[str, Any] = {
            "method": kind.value,
            "tag_hash": None if kind is CredentialKind.HA_USER else key,
            "user_id": user_id or None,
            "user_name": user_name,
            "vehicle": None if decision.vehicle is None else decision.vehicle.name,
            "person": None if person is None else person.name,
            "person_id": None if person is None else person.id,
            "credential_id": None if decision.credential is None else decision.credential.id,
            "status": decision.result.value,
        }
        if (raw := self.raw(uid)) is not None and kind is CredentialKind.RFID:
            attribution["tag_uid"] = raw
        return attribution

    # -- unknown cards --------------------------------------------------------------------

    async def _capture(
        self, charger: ChargerAuthorization, kind: CredentialKind, key: str, uid: str | None
    ) -> UnknownCard | None:
        if key in self.data.ignored:
            return None
        card = self.data.add_unknown(
            UnknownCard(
                id=new_id(),
                kind=kind,
                key=key,
                charger_id=charger.entry_id,
                charger_name=charger.name,
                session_id=charger.session_id,
                seen_at=dt_util.utcnow(),
                uid=self.raw(uid) if kind is CredentialKind.RFID else None,
            )
        )
        if self.data.settings.notify_unknown:
            await self._notify(card)
        return card

    async def _notify(self, card: UnknownCard) -> None:
        texts = await async_get_translations(
            self.hass, self.hass.config.language, "exceptions", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.exceptions"
        placeholders = {
            "charger": card.charger_name,
            "card": card.uid or short_hash(card.key),
            "card_id": card.id,
            "kind": card.kind.value,
        }
        title = texts.get(f"{prefix}.unknown_card_title.message", "Unknown card")
        message = texts.get(f"{prefix}.unknown_card.message", "Unknown card {card} at {charger}")
        persistent_notification.async_create(
            self.hass,
            message.format(**placeholders),
            title=title.format(**placeholders),
            notification_id=f"{NOTIFICATION_PREFIX}{card.id}",
        )
        service = self.data.settings.notify_service
        if service and "." in service:
            domain, name = service.split(".", 1)
            labels = {
                action: texts.get(f"{prefix}.unknown_card_{action}.message", action)
                for action in ResolveAction.ALL
            }
            await self.hass.services.async_call(
                domain,
                name,
                {
                    "title": title.format(**placeholders),
                    "message": message.format(**placeholders),
                    "data": {
                        "tag": f"{NOTIFICATION_PREFIX}{card.id}",
                        "actions": [
                            {
                                "action": f"{ACTION_PREFIX}{action}:{card.id}",
                                "title": labels[action],
                                # The person's name is typed into the notification.
                                **(
                                    {"behavior": "textInput"}
                                    if action == ResolveAction.ADD_TO_PERSON
                                    else {}
                                ),
                            }
                            for action in ResolveAction.ALL
                        ],
                    },
                },
                blocking=False,
            )

    @callback
    def _notification_action(self, event: Event[dict[str, Any]]) -> None:
        """A button of the unknown-card notification was pressed on a phone."""
        action = str(event.data.get("action", ""))
        if not action.startswith(ACTION_PREFIX):
            return
        what, _, card_id = action.removeprefix(ACTION_PREFIX).partition(":")
        self.hass.async_create_task(
            self._async_notification_action(
                what, card_id, event.data.get("reply_text"), event.context.user_id
            ),
            eager_start=True,
        )

    async def _async_notification_action(
        self, what: str, card_id: str, reply: Any, user_id: str | None
    ) -> None:
        user = None if user_id is None else await self.hass.auth.async_get_user(user_id)
        if user is None or not user.is_admin:
            LOGGER.warning("An unknown-card action from a non-administrator was ignored")
            return
        try:
            await self.async_resolve(card_id, what, person_name=str(reply) if reply else None)
        except HomeAssistantError as err:
            LOGGER.warning("The unknown-card action could not be carried out: %s", err)

    async def async_resolve(
        self,
        card_id: str,
        action: str,
        *,
        person_id: str | None = None,
        person_name: str | None = None,
        label: str = "",
    ) -> None:
        """Allow an unknown card once, add it to a person, or ignore it."""
        card = next((c for c in self.data.unknown if c.id == card_id), None)
        if card is None:
            raise _error("unknown_card_not_found", card_id=card_id)
        charger = self.chargers.get(card.charger_id)
        waiting = (
            charger is not None
            and charger.vehicle_connected
            and not charger.state.authorized
            and (card.session_id is None or card.session_id == charger.session_id)
        )
        if action == ResolveAction.ALLOW_ONCE:
            if not waiting or charger is None:
                raise _error("unknown_card_gone", charger=card.charger_name)
            await self._allow_once(charger, card)
        elif action == ResolveAction.ADD_TO_PERSON:
            if (entry := authorization_entry(self.hass)) is None:
                raise _error("authorization_not_set_up")
            person = self._person(entry, person_id, person_name)
            credential = Credential(
                id=new_id(),
                kind=card.kind,
                key=card.key,
                person_id=person.id,
                label=label,
                uid=self.raw(card.uid),
            )
            if self.data.find(card.kind, card.key) is None:
                self.hass.config_entries.async_add_subentry(
                    entry, card_subentry(credential, credential_title(credential, person, None))
                )
            async_sync(self.hass, entry, self.data)
            if waiting and charger is not None:
                await self.async_attempt(charger, card.kind, card.key, uid=card.uid)
        elif action == ResolveAction.IGNORE:
            if card.key not in self.data.ignored:
                self.data.ignored.append(card.key)
        else:
            raise _error("invalid_action", action=action)
        self.data.pop_unknown(card.id)
        persistent_notification.async_dismiss(self.hass, f"{NOTIFICATION_PREFIX}{card.id}")
        await self.async_save()

    def _person(
        self, entry: ConfigEntry[Any], person_id: str | None, person_name: str | None
    ) -> Person:
        """An existing person, or a new one (a subentry) by that name."""
        if person_id:
            if (person := self.data.people.get(person_id)) is None:
                raise _error("person_not_found", person_id=person_id)
            return person
        if not person_name or not person_name.strip():
            raise _error("person_required")
        person = Person(id=new_id(), name=person_name.strip())
        self.hass.config_entries.async_add_subentry(entry, person_subentry(person))
        self.data.people[person.id] = person
        return person

    async def _allow_once(self, charger: ChargerAuthorization, card: UnknownCard) -> None:
        attribution: dict[str, Any] = {
            "method": card.kind.value,
            "tag_hash": card.key,
            "user_id": None,
            "user_name": None,
            "vehicle": None,
            "person": None,
            "person_id": None,
            "credential_id": None,
            "status": AuthorizationResult.ACCEPTED.value,
        }
        event = {
            "entry_id": charger.entry_id,
            "charger": charger.name,
            "method": card.kind.value,
            "tag_hash": card.key,
            "user_id": None,
            "result": AuthorizationResult.ACCEPTED.value,
            "reason": "allowed_once",
            "person": None,
            "person_id": None,
            "vehicle": None,
            "mode": charger.mode.value,
        }
        self.hass.bus.async_fire(EVENT_AUTHORIZATION, event)
        LOGGER.info("Card %s allowed once at %s", short_hash(card.key), charger.name)
        await charger.async_accept(attribution)

    # -- Home Assistant users and NFC tags ------------------------------------------------

    async def async_authorize_user(
        self, charger: ChargerAuthorization, user_id: str | None
    ) -> None:
        """A Home Assistant user asks to charge (button or action); denied raises.

        An administrator without a credential of their own is accepted as the
        administrator; a credential of theirs that is blocked or expired still refuses.
        """
        if user_id is None:
            raise _error("user_required")
        if not charger.vehicle_connected:
            raise _error("no_vehicle", name=charger.name)
        if charger.state.authorized:
            return
        user = await self.hass.auth.async_get_user(user_id)
        if (
            user is not None
            and user.is_admin
            and self.data.find(CredentialKind.HA_USER, user_id) is None
        ):
            await self.async_accept_administrator(charger, user_id, reason="administrator")
            return
        decision = await self.async_attempt(charger, CredentialKind.HA_USER, user_id)
        if not decision.accepted:
            raise _error(f"denied_{decision.reason}", name=charger.name)

    async def async_accept_administrator(
        self, charger: ChargerAuthorization, user_id: str | None, *, reason: str
    ) -> None:
        """Authorise the plug cycle in the name of an administrator."""
        user = None if user_id is None else await self.hass.auth.async_get_user(user_id)
        person = next(
            (p for p in self.data.people.values() if user_id and p.user_id == user_id), None
        )
        attribution: dict[str, Any] = {
            "method": CredentialKind.HA_USER.value,
            "tag_hash": None,
            "user_id": user_id,
            "user_name": None if user is None else user.name,
            "vehicle": None,
            # Without a person of their own the administrator's user name stands for one.
            "person": person.name if person else (user.name if user else None),
            "person_id": None if person is None else person.id,
            "credential_id": None,
            "status": AuthorizationResult.ACCEPTED.value,
        }
        self.hass.bus.async_fire(
            EVENT_AUTHORIZATION,
            {
                "entry_id": charger.entry_id,
                "charger": charger.name,
                "method": CredentialKind.HA_USER.value,
                "tag_hash": None,
                "user_id": user_id,
                "result": AuthorizationResult.ACCEPTED.value,
                "reason": reason,
                "person": attribution["person"],
                "person_id": attribution["person_id"],
                "vehicle": None,
                "mode": charger.mode.value,
            },
        )
        LOGGER.info("%s authorised by an administrator (%s)", charger.name, reason)
        await charger.async_accept(attribution)

    async def async_may_act(self, charger: ChargerAuthorization, user_id: str) -> bool:
        """Whether this user could authorise the charger now (administrators always can)."""
        user = await self.hass.auth.async_get_user(user_id)
        if user is not None and user.is_admin:
            return True
        decision = decide(
            self.data.directory,
            CredentialKind.HA_USER,
            user_id,
            charger_id=charger.entry_id,
            now=dt_util.utcnow(),
            in_use=self.in_use(),
        )
        return decision.accepted

    @callback
    def _tag_scanned(self, event: Event[dict[str, Any]]) -> None:
        tag_id = event.data.get("tag_id")
        if isinstance(tag_id, str) and tag_id:
            self.hass.async_create_task(self.async_tag_scanned(tag_id), eager_start=True)

    async def async_tag_scanned(self, tag_id: str) -> None:
        """An NFC tag was scanned: it is for the charger that waits for one, if any.

        Tags serve many automations, so an unknown tag counts only while a charger in
        "required" mode waits with a vehicle; a known tag also attributes a free charger.
        Of several waiting chargers, those the tag may use come first, then the most
        recently plugged in.
        """
        key = self.hash(CredentialKind.NFC_TAG, tag_id)
        credential = self.data.find(CredentialKind.NFC_TAG, key)
        waiting = [
            charger
            for charger in self.chargers.values()
            if charger.vehicle_connected
            and not charger.state.authorized
            and (
                charger.mode is AuthorizationMode.REQUIRED
                or (credential is not None and charger.state.attribution is None)
            )
        ]
        if not waiting:
            return
        if credential is not None and credential.chargers is not None:
            waiting = [c for c in waiting if c.entry_id in credential.chargers] or waiting
        epoch = dt_util.utc_from_timestamp(0)
        charger = max(waiting, key=lambda c: c.plugged_at or epoch)
        await self.async_attempt(charger, CredentialKind.NFC_TAG, key)

    # -- the Authorization entry ----------------------------------------------------------

    async def async_set_enabled(self, enabled: bool) -> None:
        """The Authorization entry was set up (or removed)."""
        if self.data.settings.enabled != enabled:
            before = self.modes()
            self.data.settings.enabled = enabled
            await self.async_save()
            self.async_modes_changed(before)

    def modes(self) -> dict[str, AuthorizationMode]:
        """Each loaded charger's mode now."""
        return {charger_id: charger.mode for charger_id, charger in self.chargers.items()}

    @callback
    def async_modes_changed(self, before: dict[str, AuthorizationMode]) -> None:
        """Reload the chargers whose mode changed.

        Their entities follow the mode, and the first poll holds or releases them and
        sets or gives back their failsafe current.
        """
        for charger_id, mode in self.modes().items():
            if before.get(charger_id) is not mode:
                self.hass.config_entries.async_schedule_reload(charger_id)
