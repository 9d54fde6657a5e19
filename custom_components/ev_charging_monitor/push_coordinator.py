"""A live coordinator driven by what the charger reports, not by polling.

Used by chargers that push (OCPP messages, other integrations' state changes). Reports
that arrive together make one reading; a reading is also taken every HEARTBEAT (no I/O),
so durations, checkpoints and availability advance while the charger is quiet.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final

from homeassistant.core import HomeAssistant, callback

from .coordinator import EVChargingConfigEntry, LiveCoordinator
from .devices import Reading
from .devices.base import Device
from .session.plausibility import ReadingPlausibility

HEARTBEAT: Final = timedelta(seconds=30)


class PushLiveCoordinator(LiveCoordinator):
    """Takes a reading soon after each `async_push`, and at the heartbeat."""

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

    async def async_config_entry_first_refresh(self) -> None:
        """A charger that has not reported yet is no setup failure: it is unavailable."""
        self.config_entry.async_on_unload(self._cancel_drain)
        await self.async_refresh()
        if not self.last_update_success:
            # Entities are created from a reading: an empty one until the charger speaks.
            self.data = Reading()

    @callback
    def async_push(self) -> None:
        """The charger reported something: take a reading soon."""
        self._pending = True
        if self._drain is None or self._drain.done():
            self._drain = self.config_entry.async_create_task(
                self.hass, self._take_readings(), f"{self.name} report"
            )

    async def _take_readings(self) -> None:
        # Yield first, so that reports of the same moment make one reading.
        await asyncio.sleep(0)
        while self._pending:
            self._pending = False
            await self.async_refresh()

    @callback
    def _cancel_drain(self) -> None:
        if self._drain is not None:
            self._drain.cancel()

    async def _async_update_data(self) -> Reading:
        # A report, the heartbeat and a command's refresh may overlap: the session tracker
        # takes one reading at a time.
        async with self._lock:
            return await super()._async_update_data()
