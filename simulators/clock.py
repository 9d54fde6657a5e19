"""Time for behaviour models: real in the demo, driven by hand in tests."""

from __future__ import annotations

import time


class SimClock:
    """Seconds since the simulation started.

    A manual clock only moves when a test calls `advance()`, so tests never sleep to let
    energy accumulate. A real clock follows the monotonic clock, optionally sped up.
    """

    def __init__(self, *, manual: bool = False, speed: float = 1.0) -> None:
        """Start at zero."""
        self.manual = manual
        self.speed = speed
        self._manual_now = 0.0
        self._origin = time.monotonic()

    def now(self) -> float:
        """Current simulated time in seconds."""
        if self.manual:
            return self._manual_now
        return (time.monotonic() - self._origin) * self.speed

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward."""
        if not self.manual:
            raise RuntimeError("only a manual clock can be advanced")
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._manual_now += seconds
