"""Deciding on a credential presented at a charger, and acting on it.

A card at the reader, an NFC tag scanned with the companion app, or a Home Assistant user
pressing "authorise": each is decided (engine.py), told as an event and in the log, and
then releases or attributes the charger. An unknown card is remembered for the
administrator.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import Event, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER
from .charger import ChargerAuthorization
from .engine import Decision, decide, short_hash
from .model import AuthorizationMode, AuthorizationResult, CredentialKind, UnknownCard, new_id
from .notifications import async_notify_unknown_card
from .state import AuthorizationState

EVENT_AUTHORIZATION = f"{DOMAIN}_authorization"


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A refusal the user reads in their language."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def attribution(
    kind: CredentialKind,
    result: AuthorizationResult,
    *,
    tag_hash: str | None = None,
    user_id: str | None = None,
    user_name: str | None = None,
    vehicle: str | None = None,
    person: str | None = None,
    person_id: str | None = None,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """Who charges, as the charger's state and the session record keep it."""
    return {
        "method": kind.value,
        "tag_hash": tag_hash,
        "user_id": user_id,
        "user_name": user_name,
        "vehicle": vehicle,
        "person": person,
        "person_id": person_id,
        "credential_id": credential_id,
        "status": result.value,
    }


def authorization_event(
    charger: ChargerAuthorization, who: dict[str, Any], reason: str
) -> dict[str, Any]:
    """The authorization event of an attribution; a card's user id stays out of it."""
    event = {
        "entry_id": charger.entry_id,
        "charger": charger.name,
        "method": who["method"],
        "tag_hash": who["tag_hash"],
        "user_id": who["user_id"] if who["method"] == CredentialKind.HA_USER else None,
        "result": who["status"],
        "reason": reason,
        "person": who["person"],
        "person_id": who["person_id"],
        "vehicle": who["vehicle"],
        "mode": charger.mode.value,
    }
    if "tag_uid" in who:
        event["tag_uid"] = who["tag_uid"]
    return event


class AuthorizationDecisions(AuthorizationState):
    """Attempts, Home Assistant users and NFC tags."""

    def _decide(self, charger: ChargerAuthorization, kind: CredentialKind, key: str) -> Decision:
        return decide(
            self.data.directory,
            kind,
            key,
            charger_id=charger.entry_id,
            now=dt_util.utcnow(),
            in_use=self.in_use(),
        )

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
        decision = self._decide(charger, kind, key)
        who = await self.async_attribution(kind, key, decision, uid)
        event = authorization_event(charger, who, decision.reason)
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
            await charger.async_accept(who)
        elif charger.mode is AuthorizationMode.FREE:
            await charger.async_attribute(who)
        await self.async_save()
        return decision

    async def async_attribution(
        self, kind: CredentialKind, key: str, decision: Decision, uid: str | None
    ) -> dict[str, Any]:
        """Who `decision` names, with the Home Assistant user's name and the card's UID."""
        person = decision.person
        user_id = key if kind is CredentialKind.HA_USER else (person and person.user_id)
        user_name = None
        if user_id and (user := await self.hass.auth.async_get_user(user_id)) is not None:
            user_name = user.name
        who = attribution(
            kind,
            decision.result,
            tag_hash=None if kind is CredentialKind.HA_USER else key,
            user_id=user_id or None,
            user_name=user_name,
            vehicle=None if decision.vehicle is None else decision.vehicle.name,
            person=None if person is None else person.name,
            person_id=None if person is None else person.id,
            credential_id=None if decision.credential is None else decision.credential.id,
        )
        if (raw := self.raw(uid)) is not None and kind is CredentialKind.RFID:
            who["tag_uid"] = raw
        return who

    async def _capture(
        self, charger: ChargerAuthorization, kind: CredentialKind, key: str, uid: str | None
    ) -> UnknownCard | None:
        """Remember an unknown card for the administrator (not one they chose to ignore)."""
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
            await async_notify_unknown_card(self.hass, card, self.data.settings.notify_service)
        return card

    async def _async_release(
        self, charger: ChargerAuthorization, who: dict[str, Any], reason: str
    ) -> None:
        """Authorise the plug cycle without a decision, and tell everyone."""
        self.hass.bus.async_fire(EVENT_AUTHORIZATION, authorization_event(charger, who, reason))
        await charger.async_accept(who)

    # -- Home Assistant users and NFC tags ------------------------------------------------

    async def async_authorize_user(
        self, charger: ChargerAuthorization, user_id: str | None
    ) -> None:
        """A Home Assistant user asks to charge (button or action); denied raises.

        An administrator without a credential of their own is accepted as the
        administrator; a credential of theirs that is blocked or expired still refuses.
        """
        if user_id is None:
            raise service_error("user_required")
        if not charger.vehicle_connected:
            raise service_error("no_vehicle", name=charger.name)
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
            raise service_error(f"denied_{decision.reason}", name=charger.name)

    async def async_accept_administrator(
        self, charger: ChargerAuthorization, user_id: str | None, *, reason: str
    ) -> None:
        """Authorise the plug cycle in the name of an administrator."""
        user = None if user_id is None else await self.hass.auth.async_get_user(user_id)
        person = next(
            (p for p in self.data.people.values() if user_id and p.user_id == user_id), None
        )
        who = attribution(
            CredentialKind.HA_USER,
            AuthorizationResult.ACCEPTED,
            user_id=user_id,
            user_name=None if user is None else user.name,
            # Without a person of their own the administrator's user name stands for one.
            person=person.name if person else (user.name if user else None),
            person_id=None if person is None else person.id,
        )
        LOGGER.info("%s authorised by an administrator (%s)", charger.name, reason)
        await self._async_release(charger, who, reason)

    async def async_may_act(self, charger: ChargerAuthorization, user_id: str) -> bool:
        """Whether this user could authorise the charger now (administrators always can)."""
        user = await self.hass.auth.async_get_user(user_id)
        if user is not None and user.is_admin:
            return True
        return self._decide(charger, CredentialKind.HA_USER, user_id).accepted

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
