"""The interface every driver offers, whatever protocol it speaks."""

from __future__ import annotations

from typing import Protocol

from .models import Capabilities, Identity, Reading


class Device(Protocol):
    """A wallbox or meter the integration can poll and control.

    Errors are the library's own (errors.py); a value the device lacks is None in the
    reading. Commands a device does not support raise UnsupportedDeviceError.
    """

    host: str

    @property
    def capabilities(self) -> Capabilities:
        """What the device can report and do."""

    async def identify(self) -> Identity:
        """Manufacturer, model, serial and firmware."""

    async def read(self) -> Reading:
        """One poll: one consistent snapshot."""

    async def set_current_limit(self, amps: float) -> None:
        """Set the charging current limit in A."""

    async def set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """Set what the charger falls back to when its manager falls silent.

        Only where the capabilities say so (can_set_failsafe_current / _timeout).
        """

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between keep_alive() calls the device needs; None when it needs none."""

    async def keep_alive(self) -> None:
        """One watchdog action (no-op for devices without a watchdog)."""

    async def close(self) -> None:
        """Release connections and background tasks."""
