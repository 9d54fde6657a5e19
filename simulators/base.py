"""What every simulator offers, whatever protocol it speaks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from .clock import SimClock


class SimulatorError(Exception):
    """A simulator could not start; the message says what to do."""


class Simulator(ABC):
    """A simulated device with a behaviour model, served on host:port.

    `name` equals the id of the device profile or driver it stands in for, so tests and
    benchmarks can pair them.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, clock: SimClock | None = None) -> None:
        """Create the device with its own clock (a manual one in tests)."""
        self.clock = clock or SimClock()
        self.port: int | None = None

    @abstractmethod
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port); return the port."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop serving and close every connection."""
