"""Runtime data and the coordinators that poll a device, one per cadence."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN, IDENTITY_INTERVAL, LOGGER
from .devices import DeviceError, Identity, Reading
from .devices.base import Device
from .session.manager import ChargerSessions, now_utc
from .session.plausibility import ReadingPlausibility

if TYPE_CHECKING:
    from .current_limit import CurrentLimitMemory

# One step that consumes each reading (sessions, authorization): it gets the reading
# with impossible values already removed, and the wall-clock time of the poll.
type ReadingProcessor = Callable[[Reading, datetime], Awaitable[None]]


@dataclass(kw_only=True)
class EVChargingRuntimeData:
    """What a loaded entry holds: the driver and its coordinators."""

    device: Device
    live: LiveCoordinator
    identity: IdentityCoordinator
    sessions: ChargerSessions | None
    current_limit: CurrentLimitMemory | None = None


type EVChargingConfigEntry = ConfigEntry[EVChargingRuntimeData]


def monotonic() -> float:
    """Seconds of a clock that never jumps (looked up per call, so tests can drive it)."""
    return time.monotonic()


class LiveCoordinator(DataUpdateCoordinator[Reading]):
    """Power, energy and state: polled every few seconds.

    The coordinator only fetches: a failed fetch is the only thing that makes the device
    unavailable. Each reading then passes the plausibility rules and the registered
    processors, in order and before any entity updates (so no entity shows a reading
    without its session); a processor that fails is logged and skipped for this reading,
    and the others and the entities still get it.
    """

    config_entry: EVChargingConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EVChargingConfigEntry,
        device: Device,
        *,
        plausibility: ReadingPlausibility,
    ) -> None:
        """Poll `device` at the entry's scan interval."""
        seconds = entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} live values",
            update_interval=timedelta(seconds=seconds),
        )
        self.device = device
        self.plausibility = plausibility
        self._processors: list[tuple[str, ReadingProcessor]] = []
        self.processor_failures: dict[str, int] = {}
        # The last reading cleaned but not held back: a session billed from this device
        # judges resets and jumps itself and needs every reading on the new track.
        self.checked: Reading | None = None

    def add_processor(self, name: str, processor: ReadingProcessor) -> Callable[[], None]:
        """Run `processor` on every reading from now on; return the removal."""
        step = (name, processor)
        self._processors.append(step)
        return lambda: self._processors.remove(step)

    async def _async_update_data(self) -> Reading:
        try:
            raw = await self.device.read()
        except DeviceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        now = now_utc()
        reading = self.checked = self.plausibility.clean(raw)
        for name, processor in list(self._processors):
            try:
                await processor(reading, now)
            except Exception:  # a processor's bug is not a device outage
                self.processor_failures[name] = self.processor_failures.get(name, 0) + 1
                LOGGER.exception(
                    "%s: the %s step failed on this reading; the device stays available",
                    self.config_entry.title,
                    name,
                )
        return self.plausibility.gate(reading, monotonic())


class IdentityCoordinator(DataUpdateCoordinator[Identity]):
    """Model, serial and firmware: they change only with a firmware update."""

    config_entry: EVChargingConfigEntry

    def __init__(self, hass: HomeAssistant, entry: EVChargingConfigEntry, device: Device) -> None:
        """Read the identity hourly."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} identity",
            update_interval=IDENTITY_INTERVAL,
        )
        self.device = device

    async def _async_update_data(self) -> Identity:
        try:
            return await self.device.identify()
        except DeviceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
