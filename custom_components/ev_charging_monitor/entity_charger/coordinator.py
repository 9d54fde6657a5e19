"""Take a reading whenever a mapped entity changes state.

The sessions, plausibility and authorization processors run on every reading exactly as
for a polled driver. A reading is also taken every HEARTBEAT (from the state machine, no
I/O), so durations, checkpoints and the charger's availability advance while nothing
changes; state changes that arrive together are taken as one reading.
"""

from __future__ import annotations

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from ..coordinator import EVChargingConfigEntry
from ..devices.base import Device
from ..push_coordinator import PushLiveCoordinator
from ..session.plausibility import ReadingPlausibility
from .device import EntityChargerDevice


class EntityLiveCoordinator(PushLiveCoordinator):
    """The live coordinator of a charger made of entities: driven by state changes."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EVChargingConfigEntry,
        device: Device,
        *,
        plausibility: ReadingPlausibility,
    ) -> None:
        """Keep the mapping whose entities are listened to."""
        super().__init__(hass, entry, device, plausibility=plausibility)
        self.source = _source(device)

    async def async_config_entry_first_refresh(self) -> None:
        """Listen to the mapped entities; a source not there yet is no setup failure.

        The other integration may load after this one: until its entities have a state the
        charger shows as unavailable, and their first state change brings it back.
        """
        entities = self.source.mapping.entities
        self.config_entry.async_on_unload(
            async_track_state_change_event(self.hass, entities, self._state_changed)
        )
        await super().async_config_entry_first_refresh()

    @callback
    def _state_changed(self, _event: Event[EventStateChangedData]) -> None:
        self.async_push()


def _source(device: object) -> EntityChargerDevice:
    """The entity device, also behind authorization's guard."""
    inner = getattr(device, "inner", device)
    assert isinstance(inner, EntityChargerDevice)
    return inner
