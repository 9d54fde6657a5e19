"""Websocket commands the ledger uses to fetch, follow and acknowledge sessions.

- `ev_charging_monitor/sessions` {after_seq=0, limit=100 (max 1000)}
  → {"sessions": [record, ...] (seq > after_seq, ascending, at most 1 MB), "last_seq": int,
  "acknowledged_seq": int}; the ledger compares acknowledged_seq with its own position
  to notice that it was restored from an older copy.
- `ev_charging_monitor/subscribe_sessions` {after_seq}
  → result null, then events {"sessions": [...]}: the catch-up first, then each completed
  session as it is recorded; nothing is sent twice and nothing is skipped.
- `ev_charging_monitor/ack_sessions` {up_to_seq} → {"acknowledged_seq": int}; acknowledged
  sessions are pruned, but for a recent window (400 days, 20,000 sessions).
- `ev_charging_monitor/link_ledger` {url} → {"linked": bool}: a standalone ledger says where
  browsers open it; Home Assistant offers to link it (a discovered entry to confirm), which
  adds the ledger to the sidebar. An entry already linked follows the new address.
All four need an administrator. Messages follow session_record.schema.json ($defs); a
record too large for one message is sent as a stand-in with `oversized_bytes`.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components import websocket_api
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import discovery_flow
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from .entry import STANDALONE_ID, checked_ledger_url
from .history import SessionHistory, pages

HISTORY: HassKey[SessionHistory] = HassKey(f"{DOMAIN}_history")
CATCH_UP_PAGE = 500


@callback
def async_register(hass: HomeAssistant) -> None:
    """Register the commands."""
    websocket_api.async_register_command(hass, ws_sessions)
    websocket_api.async_register_command(hass, ws_subscribe_sessions)
    websocket_api.async_register_command(hass, ws_ack_sessions)
    websocket_api.async_register_command(hass, ws_link_ledger)


@websocket_api.require_admin
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/sessions",
        vol.Optional("after_seq", default=0): vol.All(int, vol.Range(min=0)),
        vol.Optional("limit", default=100): vol.All(int, vol.Range(min=1, max=1000)),
    }
)
@callback
def ws_sessions(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Completed sessions after a seq."""
    history = hass.data[HISTORY]
    sessions = history.page_after(msg["after_seq"], msg["limit"])
    history.mark_delivered(sessions)
    connection.send_result(
        msg["id"],
        {
            "sessions": sessions,
            "last_seq": history.last_seq,
            "acknowledged_seq": history.acked_seq,
        },
    )


@websocket_api.require_admin
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/subscribe_sessions",
        vol.Optional("after_seq", default=0): vol.All(int, vol.Range(min=0)),
    }
)
@callback
def ws_subscribe_sessions(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Catch up from after_seq, then follow live."""
    history = hass.data[HISTORY]
    msg_id = msg["id"]

    @callback
    def forward(sessions: list[dict[str, Any]]) -> None:
        history.mark_delivered(sessions)
        connection.send_message(websocket_api.event_message(msg_id, {"sessions": sessions}))

    # Subscribing and reading the backlog happen in one callback: no session can be
    # completed in between, so the live feed starts exactly where the catch-up ends.
    connection.subscriptions[msg_id] = history.async_subscribe(forward)
    connection.send_result(msg_id)
    backlog = history.after(msg["after_seq"], history.last_seq + 1)
    for start in range(0, len(backlog), CATCH_UP_PAGE):
        for page in pages(backlog[start : start + CATCH_UP_PAGE]):
            forward(page)


@websocket_api.require_admin
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/ack_sessions",
        vol.Required("up_to_seq"): vol.All(int, vol.Range(min=0)),
    }
)
@websocket_api.async_response
async def ws_ack_sessions(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The ledger stored everything up to up_to_seq."""
    acked = await hass.data[HISTORY].async_ack(msg["up_to_seq"])
    connection.send_result(msg["id"], {"acknowledged_seq": acked})


@websocket_api.require_admin
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/link_ledger", vol.Required("url"): str}
)
@callback
def ws_link_ledger(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """A standalone ledger announces its address: offer to link it (once)."""
    if (url := checked_ledger_url(msg["url"])) is None:
        connection.send_error(
            msg["id"], websocket_api.ERR_INVALID_FORMAT, "url must be an http(s) address"
        )
        return
    linked = any(
        entry.unique_id == STANDALONE_ID for entry in hass.config_entries.async_entries(DOMAIN)
    )
    # A linked ledger's flow only updates its address (and aborts); a new one waits for
    # someone to confirm it under Settings > Devices & services.
    discovery_flow.async_create_flow(
        hass, DOMAIN, {"source": SOURCE_INTEGRATION_DISCOVERY}, {CONF_URL: url}
    )
    connection.send_result(msg["id"], {"linked": linked})
