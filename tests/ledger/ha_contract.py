"""A stand-in for the integration's session websocket API, inside a real Home Assistant.

It follows the contract of DESIGN.md section 6 exactly as the integration must, backed
by an in-memory list. It is the only place that knows the contract's server side: when
the integration's own websocket API exists, the end-to-end tests set up the integration
instead of calling :func:`register` and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import probatio
from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback

CATCH_UP_CHUNK = 100


class SessionSource:
    """Completed sessions as the integration would keep them until acknowledged."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.acknowledged_seq = 0
        self.ack_calls: list[int] = []
        self.commands: list[dict[str, Any]] = []
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        # Test hooks, called with the message before it is answered.
        self.on_ack: Callable[[int], None] | None = None
        self.on_sessions: Callable[[dict[str, Any]], None] | None = None
        self.ack_waiters: list[tuple[int, Callable[[], None]]] = []
        # While True, acks are answered but not recorded, as if the reply was lost.
        self.ignore_acks = False

    @property
    def last_seq(self) -> int:
        return self.records[-1]["seq"] if self.records else 0

    @callback
    def complete(self, record: dict[str, Any]) -> None:
        """A session ended: keep it and push it to live subscribers."""
        if record["seq"] <= self.last_seq:
            raise ValueError("seq must be strictly increasing")
        self.records.append(record)
        for listener in list(self._listeners):
            listener(record)

    def after(self, seq: int) -> list[dict[str, Any]]:
        return [record for record in self.records if record["seq"] > seq]

    @callback
    def acknowledge(self, up_to_seq: int) -> int:
        self.ack_calls.append(up_to_seq)
        if self.ignore_acks:
            return self.acknowledged_seq
        self.acknowledged_seq = max(self.acknowledged_seq, min(up_to_seq, self.last_seq))
        for target, wake in list(self.ack_waiters):
            if self.acknowledged_seq >= target:
                wake()
        return self.acknowledged_seq


def register(hass: HomeAssistant, source: SessionSource) -> None:
    @websocket_api.require_admin
    @websocket_api.websocket_command(
        {
            probatio.Required("type"): "ev_charging_monitor/sessions",
            probatio.Optional("after_seq", default=0): int,
            probatio.Optional("limit", default=100): probatio.All(
                int, probatio.Range(min=1, max=1000)
            ),
        }
    )
    @callback
    def sessions(
        hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
    ) -> None:
        source.commands.append(msg)
        page = source.after(msg["after_seq"])[: msg["limit"]]
        connection.send_result(msg["id"], {"sessions": page, "last_seq": source.last_seq})
        if source.on_sessions is not None:
            source.on_sessions(msg)

    @websocket_api.require_admin
    @websocket_api.websocket_command(
        {
            probatio.Required("type"): "ev_charging_monitor/subscribe_sessions",
            probatio.Optional("after_seq", default=0): int,
        }
    )
    @callback
    def subscribe(
        hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
    ) -> None:
        source.commands.append(msg)
        message_id = msg["id"]

        @callback
        def forward(record: dict[str, Any]) -> None:
            connection.send_message(websocket_api.event_message(message_id, {"sessions": [record]}))

        @callback
        def unsubscribe() -> None:
            source._listeners.remove(forward)

        connection.subscriptions[message_id] = unsubscribe
        connection.send_result(message_id)
        backlog = source.after(msg["after_seq"])
        for start in range(0, len(backlog), CATCH_UP_CHUNK):
            connection.send_message(
                websocket_api.event_message(
                    message_id, {"sessions": backlog[start : start + CATCH_UP_CHUNK]}
                )
            )
        source._listeners.append(forward)

    @websocket_api.require_admin
    @websocket_api.websocket_command(
        {
            probatio.Required("type"): "ev_charging_monitor/ack_sessions",
            probatio.Required("up_to_seq"): int,
        }
    )
    @callback
    def ack(
        hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
    ) -> None:
        source.commands.append(msg)
        if source.on_ack is not None:
            source.on_ack(msg["up_to_seq"])
        acknowledged = source.acknowledge(msg["up_to_seq"])
        connection.send_result(msg["id"], {"acknowledged_seq": acknowledged})

    websocket_api.async_register_command(hass, sessions)
    websocket_api.async_register_command(hass, subscribe)
    websocket_api.async_register_command(hass, ack)
