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
    """A device profile is malformed; the message names the field and the problem.

    `reason` is a stable code for the kind of problem and `placeholders` the parts the
    message names (`field`, and per reason `other`, `register`, `name` ...), so an
    application can show the error in its user's language instead of the English message.
    """

    def __init__(
        self, message: str, *, reason: str = "invalid", placeholders: dict[str, str] | None = None
    ) -> None:
        """Keep the English message, the reason code and what the message names."""
        super().__init__(message)
        self.reason = reason
        self.placeholders = dict(placeholders or {})
        self.placeholders.setdefault("field", message.split(":", 1)[0] if ":" in message else "")


class ProfileReadError(DeviceError):
    """Testing a profile against its device failed at one register.

    `field` is the profile's name for what was read (`values.current_l2`, `identity.serial`),
    `register` the place (`input register 7, unit 1`); `code` is the Modbus exception code
    when the device refused the read, None when it did not answer in time.
    """

    def __init__(self, field: str, register: str, code: int | None, cause: DeviceError) -> None:
        """Name what failed, where, and why."""
        why = f"exception code {code}" if code is not None else str(cause)
        super().__init__(f"reading {field} ({register}) failed: {why}")
        self.field = field
        self.register = register
        self.code = code
