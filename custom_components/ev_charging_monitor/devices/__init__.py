"""Asyncio device library for EV wallboxes and energy meters.

Kept free of Home Assistant imports so it can be published on its own; the integration only
adapts it.
"""

from .errors import (
    DeviceCommunicationError,
    DeviceConnectionError,
    DeviceError,
    DeviceExceptionResponse,
    DeviceTimeoutError,
    InvalidProfileError,
    UnsupportedDeviceError,
)
from .models import Capabilities, ChargerState, DeviceKind, Identity, Reading

__all__ = [
    "Capabilities",
    "ChargerState",
    "DeviceCommunicationError",
    "DeviceConnectionError",
    "DeviceError",
    "DeviceExceptionResponse",
    "DeviceKind",
    "DeviceTimeoutError",
    "Identity",
    "InvalidProfileError",
    "Reading",
    "UnsupportedDeviceError",
]
