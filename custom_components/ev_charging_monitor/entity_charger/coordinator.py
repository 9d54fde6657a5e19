"""Take a reading whenever a mapped entity changes state.

The sessions, plausibility and authorization processors run on every reading exactly as
for a polled driver. A reading is also taken every HEARTBEAT (from the state machine, no
I/O), so durations, checkpoints and the charger's availability advance while nothing
changes; state changes that arrive together are taken as one reading.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from ..coordinator import EVChargingConfigEntry, LiveCoordinator
from ..devices import Reading
from ..devices.base import Device
from ..session.plausibility import ReadingPlausibility
from .device import EntityChargerDevice

HEARTBEAT: Final = timedelta(seconds=30)


class EntityLiveCoordinator(LiveCoordinator):
    """The live coordinator of a charger made of entities: driven by state changes."""

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
        self.source = _source(device)
        self._lock = asyncio.Lock()
        self._pending = False
        self._drain: asyncio.Task[None] | None = None

    async def async_config_entry_first_refresh(self) -> None:
        """Listen to the mapped entities; a source not there yet is no setup failure.

        The other integration may load after this one: until its entities have a state the
        charger shows as unavailable, and their first state change brings it back.
        """
        entities = self.source.mapping.entities
        self.config_entry.async_on_unload(
            async_track_state_change_event(self.hass, entities, self._state_changed)
        )
        self.config_entry.async_on_unload(self._cancel_drain)
        await self.async_refresh()
        if not self.last_update_success:
            # Entities are created from a reading: an empty one until the source speaks.
            self.data = Reading()

    @callback
    def _state_changed(self, _event: Event[EventStateChangedData]) -> None:
        self._pending = True
        if self._drain is None or self._drain.done():
            self._drain = self.config_entry.async_create_task(
                self.hass, self._take_readings(), f"{self.name} state change"
            )

    async def _take_readings(self) -> None:
        # Yield first, so that states written in the same moment make one reading.
        await asyncio.sleep(0)
        while self._pending:
            self._pending = False
            await self.async_refresh()

    @callback
    def _cancel_drain(self) -> None:
        if self._drain is not None:
            self._drain.cancel()

    async def _async_update_data(self) -> Reading:
        # A state change, the heartbeat and a command's refresh may overlap: the session
        # tracker takes one reading at a time.
        async with self._lock:
            return await super()._async_update_data()


def _source(device: object) -> EntityChargerDevice:
    """The entity device, also behind authorization's guard."""
    inner = getattr(device, "inner", device)
    assert isinstance(inner, EntityChargerDevice)
    return inner
