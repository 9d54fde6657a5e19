"""Keep implausible meter registers away from the Energy dashboard.

A total_increasing sensor turns a register that drops and comes back into a spike of
energy; so a drop or an impossible jump is shown as unknown instead, until the register
is plausible again or has settled on a new base (a meter reset or replacement).
"""

from __future__ import annotations

from datetime import datetime

from .tracker import JUMP_FACTOR, JUMP_SLACK_WH, RESET_CONFIRMATIONS


class EnergyGate:
    """Passes plausible register readings, holds back the others."""

    def __init__(self, *, max_power_w: float) -> None:
        """`max_power_w` bounds how fast the register may grow."""
        self.max_power_w = max_power_w
        self._last: tuple[datetime, float] | None = None
        self._below: list[float] = []
        self.rejected = 0

    def filter(self, energy_wh: float | None, now: datetime) -> float | None:
        """The reading if it is plausible, else None."""
        if energy_wh is None:
            return None
        if self._last is None:
            self._last = (now, energy_wh)
            return energy_wh
        at, last = self._last
        elapsed = max((now - at).total_seconds(), 0)
        allowed = self.max_power_w * elapsed / 3600 * float(JUMP_FACTOR)
        if energy_wh < last:
            self._below.append(energy_wh)
            recent = self._below[-RESET_CONFIRMATIONS:]
            if len(recent) == RESET_CONFIRMATIONS and recent == sorted(recent):
                self._below.clear()
                self._last = (now, energy_wh)
                return energy_wh
            self.rejected += 1
            return None
        self._below.clear()
        if energy_wh - last > allowed + float(JUMP_SLACK_WH):
            self.rejected += 1
            return None
        self._last = (now, energy_wh)
        return energy_wh
