"""The current limit a user set last, kept across restarts, and the one way to set it.

A charger paused by writing 0 A resumes by writing a limit again; after a restart the
driver knows nothing of the user's limit and would write the device's maximum. The limit
is therefore stored per entry (written at once: a limit is set rarely, and a crash right
after setting it must not lose it) and handed to the driver at setup.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .authorization.guard import acting_as
from .const import DOMAIN
from .coordinator import EVChargingConfigEntry
from .helpers import async_run_command

STORAGE_VERSION = 1


class CurrentLimitMemory:
    """The last current limit above 0 A that was set on one charger."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Keep it in the entry's own store."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.current_limit"
        )
        self.amps: float | None = None

    async def async_load(self) -> float | None:
        """Read the stored limit; None when there is none or it is unusable."""
        data = await self._store.async_load()
        amps = None if not isinstance(data, dict) else data.get("amps")
        self.amps = None
        if isinstance(amps, (int, float)) and not isinstance(amps, bool) and amps > 0:
            self.amps = float(amps)
        return self.amps

    async def async_remember(self, amps: float) -> None:
        """Store `amps` if it is a limit to resume with (0 pauses, it is not one)."""
        if amps <= 0 or amps == self.amps:
            return
        self.amps = amps
        await self._store.async_save({"amps": amps})

    async def async_remove(self) -> None:
        """Forget the limit (the entry is removed)."""
        await self._store.async_remove()


async def async_set_current_limit(
    entry: EVChargingConfigEntry, amps: float, *, user_id: str | None
) -> None:
    """Set the limit as `user_id` (a held charger refuses some users), then remember it."""
    with acting_as(user_id):
        await async_run_command(entry, entry.runtime_data.device.set_current_limit(amps))
    if (memory := entry.runtime_data.current_limit) is not None:
        await memory.async_remember(amps)
