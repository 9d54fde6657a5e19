"""Typed errors of the device library; no pymodbus or aiohttp exception escapes it."""

from __future__ import annotations


class DeviceError(Exception):
    """Base class of every error the device library raises."""


class DeviceConnectionError(DeviceError):
    """The device could not be reached or dropped the connection."""


class DeviceTimeoutError(DeviceConnectionError):
    """The device did not answer in time."""


class DeviceCommunicationError(DeviceError):
    """The device answered with something that is not a valid reply."""


class DeviceExceptionResponse(DeviceCommunicationError):
    """The device refused a request with a Modbus exception code."""

    MEANINGS = {
        1: "illegal function",
        2: "illegal data address",
        3: "illegal data value",
        4: "device failure",
        5: "acknowledge",
        6: "device busy",
        10: "gateway path unavailable",
        11: "gateway target did not respond",
    }

    def __init__(self, code: int, request: str) -> None:
        """Describe which request the device refused, and why."""
        meaning = self.MEANINGS.get(code, "unknown exception")
        super().__init__(f"device refused {request}: exception code {code} ({meaning})")
        self.code = code
        self.request = request


class UnsupportedDeviceError(DeviceError):
    """The device answered, but is none of the devices this library knows."""


class InvalidProfileError(DeviceError):
    """A device profile is malformed; the message names the field and the problem."""
