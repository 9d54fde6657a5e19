"""What the administrator decides about an unknown card: once, to a person, or ignored.

The decision comes from the Authorization entry's options, an action, or a button of the
phone notification.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, callback
from homeassistant.exceptions import HomeAssistantError

from ..const import LOGGER
from .charger import ChargerAuthorization
from .decisions import AuthorizationDecisions, attribution, service_error
from .engine import short_hash
from .model import AuthorizationResult, Credential, Person, ResolveAction, UnknownCard, new_id
from .notifications import dismiss_unknown_card, pressed_action
from .subentries import (
    async_sync,
    authorization_entry,
    card_subentry,
    credential_title,
    person_subentry,
)


class UnknownCards(AuthorizationDecisions):
    """Resolving the unknown cards the attempts remembered."""

    @callback
    def _notification_action(self, event: Event[dict[str, Any]]) -> None:
        """A button of the unknown-card notification was pressed on a phone."""
        if (pressed := pressed_action(event)) is None:
            return
        what, card_id = pressed
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
            raise service_error("unknown_card_not_found", card_id=card_id)
        charger = self.chargers.get(card.charger_id)
        waiting = (
            charger is not None
            and charger.vehicle_connected
            and not charger.state.authorized
            and (card.session_id is None or card.session_id == charger.session_id)
        )
        if action == ResolveAction.ALLOW_ONCE:
            if not waiting or charger is None:
                raise service_error("unknown_card_gone", charger=card.charger_name)
            await self._allow_once(charger, card)
        elif action == ResolveAction.ADD_TO_PERSON:
            if (entry := authorization_entry(self.hass)) is None:
                raise service_error("authorization_not_set_up")
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
            raise service_error("invalid_action", action=action)
        self.data.pop_unknown(card.id)
        dismiss_unknown_card(self.hass, card)
        await self.async_save()

    def _person(
        self, entry: ConfigEntry[Any], person_id: str | None, person_name: str | None
    ) -> Person:
        """An existing person, or a new one (a subentry) by that name."""
        if person_id:
            if (person := self.data.people.get(person_id)) is None:
                raise service_error("person_not_found", person_id=person_id)
            return person
        if not person_name or not person_name.strip():
            raise service_error("person_required")
        person = Person(id=new_id(), name=person_name.strip())
        self.hass.config_entries.async_add_subentry(entry, person_subentry(person))
        self.data.people[person.id] = person
        return person

    async def _allow_once(self, charger: ChargerAuthorization, card: UnknownCard) -> None:
        who = attribution(card.kind, AuthorizationResult.ACCEPTED, tag_hash=card.key)
        LOGGER.info("Card %s allowed once at %s", short_hash(card.key), charger.name)
        await self._async_release(charger, who, "allowed_once")
