"""The live coordinator of an OCPP charger: a reading whenever the charger reports."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.core import HomeAssistant

from ..coordinator import EVChargingConfigEntry
from ..devices import Reading
from ..devices.base import Device
from ..push_coordinator import PushLiveCoordinator
from ..session.plausibility import ReadingPlausibility
from .device import OcppDevice


class OcppLiveCoordinator(PushLiveCoordinator):
    """Driven by the charger's messages, not by polling."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EVChargingConfigEntry,
        device: Device,
        *,
        plausibility: ReadingPlausibility,
    ) -> None:
        """Keep the charger whose last register the entities show."""
        super().__init__(hass, entry, device, plausibility=plausibility)
        inner = getattr(device, "inner", device)  # behind authorization's guard
        assert isinstance(inner, OcppDevice)
        self._charger = inner.charger

    async def _async_update_data(self) -> Reading:
        reading = await super()._async_update_data()
        if reading.energy is None and (energy := self._charger.values.get("energy")) is not None:
            # The sessions got no register between meter values; the entities show the last.
            reading = replace(reading, energy=energy)
        return reading
