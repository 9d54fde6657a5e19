"""What the central system knows across entries: loaded chargers, live connections, ids.

One registry per Home Assistant, created on first use, so a charger entry and the
central-system entry can load in any order.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.core import CoreState, HomeAssistant, callback
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from ..const import CONF_DRIVER, DOMAIN
from .charger import BootInfo, OcppCharger
from .const import (
    CONF_CHARGE_POINT_ID,
    CONF_FIRMWARE,
    CONF_METER_SERIAL,
    CONF_METER_TYPE,
    CONF_MODEL,
    CONF_SERIAL,
    CONF_VENDOR,
    DRIVER_OCPP,
)
from .transactions import TransactionBook

if TYPE_CHECKING:
    from .charge_point import CentralChargePoint
    from .charge_point_201 import CentralChargingStation

OCPP_REGISTRY: HassKey[OcppRegistry] = HassKey(f"{DOMAIN}_ocpp")
STORAGE_VERSION: Final = 1
# A burst of queued meter values is written once; what a crash loses in between is only
# price resolution (a session's energy is its stop register minus its start register).
SAVE_DELAY_S: Final = 5
# How long a message waits for its charger's entry while Home Assistant starts.
LOAD_WAIT_S: Final = 30.0
_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_ocpp_lock")


class OcppRegistry:
    """Chargers by charge point id, their connections, and the transaction book."""

    def __init__(self, hass: HomeAssistant, store: Store[dict[str, Any]], book: TransactionBook):
        """Use `async_get_registry`."""
        self.hass = hass
        self.store = store
        self.book = book
        self.chargers: dict[str, OcppCharger] = {}
        self.connections: dict[str, CentralChargePoint | CentralChargingStation] = {}
        self._waiters: dict[str, asyncio.Event] = {}

    def entry_for(self, charge_point_id: str) -> ConfigEntry[Any] | None:
        """The charger entry of that id, loaded or not."""
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if (
                entry.data.get(CONF_DRIVER) == DRIVER_OCPP
                and entry.data.get(CONF_CHARGE_POINT_ID) == charge_point_id
            ):
                return entry
        return None

    @callback
    def async_offer(self, charge_point_id: str, boot: BootInfo) -> None:
        """A charger nobody added booted: offer it to the user (one flow per charger)."""
        if self.entry_for(charge_point_id) is not None:
            return
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                CONF_CHARGE_POINT_ID: charge_point_id,
                CONF_VENDOR: boot.vendor,
                CONF_MODEL: boot.model,
                CONF_SERIAL: boot.serial,
                CONF_FIRMWARE: boot.firmware,
                CONF_METER_SERIAL: boot.meter_serial,
                CONF_METER_TYPE: boot.meter_type,
            },
        )

    @callback
    def async_register(self, charger: OcppCharger) -> None:
        """A charger entry is loaded: its messages count from now on."""
        self.chargers[charger.charge_point_id] = charger
        if (waiter := self._waiters.pop(charger.charge_point_id, None)) is not None:
            waiter.set()
        charger.transaction = self.book.open.get(charger.charge_point_id)
        if (connection := self.connections.get(charger.charge_point_id)) is not None:
            charger.connected = True
            # It waits as Pending: ask it to boot again, now to be accepted.
            self.hass.async_create_background_task(
                connection.async_trigger_boot(), f"OCPP trigger boot {charger.charge_point_id}"
            )

    @callback
    def async_unregister(self, charger: OcppCharger) -> None:
        """A charger entry is unloaded."""
        if self.chargers.get(charger.charge_point_id) is charger:
            del self.chargers[charger.charge_point_id]

    async def async_loaded_charger(self, charge_point_id: str) -> OcppCharger | None:
        """The charger, once its entry is loaded: while Home Assistant starts, a charger
        may reconnect and send its queue before its entry is set up, and what it sends
        then must not count for nothing. Waits LOAD_WAIT_S at most (a connection's
        messages are handled one after the other, so their order stays)."""
        if (charger := self.chargers.get(charge_point_id)) is not None:
            return charger
        entry = self.entry_for(charge_point_id)
        loading = entry is not None and (
            entry.state is ConfigEntryState.SETUP_IN_PROGRESS
            or (
                entry.state is ConfigEntryState.NOT_LOADED
                and entry.disabled_by is None
                and self.hass.state is not CoreState.running
            )
        )
        if loading:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LOAD_WAIT_S):
                    await self.async_wait_registered(charge_point_id)
        return self.chargers.get(charge_point_id)

    async def async_wait_registered(self, charge_point_id: str) -> None:
        """Until the charger entry of that id is loaded."""
        while charge_point_id not in self.chargers:
            await self._waiters.setdefault(charge_point_id, asyncio.Event()).wait()

    @callback
    def async_save_soon(self) -> None:
        """Write the transaction book within SAVE_DELAY_S (many messages, one write)."""
        self.store.async_delay_save(self.book.to_dict, SAVE_DELAY_S)

    async def async_save(self) -> None:
        """Write the transaction book now (a transaction must survive a crash)."""
        await self.store.async_save(self.book.to_dict())


async def async_get_registry(hass: HomeAssistant) -> OcppRegistry:
    """The registry, with its transaction book loaded."""
    lock = hass.data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        if (registry := hass.data.get(OCPP_REGISTRY)) is None:
            store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.ocpp")
            data = await store.async_load()
            book = TransactionBook() if data is None else TransactionBook.from_dict(data)
            registry = hass.data[OCPP_REGISTRY] = OcppRegistry(hass, store, book)
    return registry
