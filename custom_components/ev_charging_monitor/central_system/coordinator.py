"""The live coordinator of an OCPP charger: a reading whenever the charger reports.

Messages that arrive together make one reading; a reading is also taken every HEARTBEAT
(no I/O), so durations and checkpoints advance while the charger is quiet.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Final

from homeassistant.core import HomeAssistant, callback

from ..coordinator import EVChargingConfigEntry, LiveCoordinator
from ..devices import Reading
from ..devices.base import Device
from ..session.plausibility import ReadingPlausibility
from .device import OcppDevice

HEARTBEAT: Final = timedelta(seconds=30)


class OcppLiveCoordinator(LiveCoordinator):
    """Driven by the charger's messages, not by polling."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EVChargingConfigEntry,
        device: Device,
        *,
        plausibility: ReadingPlausibility,
    ) -> None:
        """Like the polled one, with the heartbeat as its interval."""
        super().__init__(hass, entry, device, plausibility=plausibility)
        self.update_interval = HEARTBEAT
        self._lock = asyncio.Lock()
        self._pending = False
        self._drain: asyncio.Task[None] | None = None
        inner = getattr(device, "inner", device)  # behind authorization's guard
        assert isinstance(inner, OcppDevice)
        self._charger = inner.charger

    async def async_config_entry_first_refresh(self) -> None:
        """A charger not connected yet is no setup failure: it is unavailable until it is."""
        self.config_entry.async_on_unload(self._cancel_drain)
        await self.async_refresh()
        if not self.last_update_success:
            self.data = Reading()

    @callback
    def async_push(self) -> None:
        """The charger reported something: take a reading soon."""
        self._pending = True
        if self._drain is None or self._drain.done():
            self._drain = self.config_entry.async_create_task(
                self.hass, self._take_readings(), f"{self.name} OCPP message"
            )

    async def _take_readings(self) -> None:
        await asyncio.sleep(0)
        while self._pending:
            self._pending = False
            await self.async_refresh()

    @callback
    def _cancel_drain(self) -> None:
        if self._drain is not None:
            self._drain.cancel()

    async def _async_update_data(self) -> Reading:
        async with self._lock:
            reading = await super()._async_update_data()
        if reading.energy is None and (energy := self._charger.values.get("energy")) is not None:
            # The sessions got no register between meter values; the entities show the last.
            reading = replace(reading, energy=energy)
        return reading
