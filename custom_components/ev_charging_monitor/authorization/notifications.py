"""Telling the administrator of an unknown card, and the buttons they press on a phone.

A notification in Home Assistant always; with a notify action set (the companion app), one
on the phone too, whose buttons resolve the card (unknown_cards.py).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from ..const import DOMAIN
from .engine import short_hash
from .model import ResolveAction, UnknownCard

# Fired by the companion app when a notification's button is pressed.
EVENT_NOTIFICATION_ACTION = "mobile_app_notification_action"
ACTION_PREFIX = "EVCM_CARD_"
NOTIFICATION_PREFIX = f"{DOMAIN}_unknown_card_"


async def async_notify_unknown_card(
    hass: HomeAssistant, card: UnknownCard, notify_service: str | None
) -> None:
    """Show the card in Home Assistant and, with a notify action, on the phone."""
    texts = await async_get_translations(hass, hass.config.language, "exceptions", {DOMAIN})
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
        hass,
        message.format(**placeholders),
        title=title.format(**placeholders),
        notification_id=f"{NOTIFICATION_PREFIX}{card.id}",
    )
    if not notify_service or "." not in notify_service:
        return
    domain, name = notify_service.split(".", 1)
    labels = {
        action: texts.get(f"{prefix}.unknown_card_{action}.message", action)
        for action in ResolveAction.ALL
    }
    await hass.services.async_call(
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


def dismiss_unknown_card(hass: HomeAssistant, card: UnknownCard) -> None:
    """The card was dealt with: its notification goes."""
    persistent_notification.async_dismiss(hass, f"{NOTIFICATION_PREFIX}{card.id}")


def pressed_action(event: Event[dict[str, Any]]) -> tuple[str, str] | None:
    """The action and card id of a button of ours pressed on a phone, else None."""
    action = str(event.data.get("action", ""))
    if not action.startswith(ACTION_PREFIX):
        return None
    what, _, card_id = action.removeprefix(ACTION_PREFIX).partition(":")
    return what, card_id
