"""Drivers for devices with an HTTP API: go-e chargers and Shelly meters."""

from .base import HttpDevice, HttpStatusError
from .goe import GoeCharger
from .shelly import ShellyEMGen1, ShellyPro3EM

HTTP_DRIVERS: tuple[type[HttpDevice], ...] = (GoeCharger, ShellyPro3EM, ShellyEMGen1)
"""Every HTTP driver; each has `id`, `name`, `detect()` and the `Device` methods."""

__all__ = [
    "HTTP_DRIVERS",
    "GoeCharger",
    "HttpDevice",
    "HttpStatusError",
    "ShellyEMGen1",
    "ShellyPro3EM",
]
