"""Try a profile against its device, and name the register that fails.

A profile written from a manual is often wrong in one place: an address off by one, a
register the firmware lacks. The planned poll only says which request failed; this finds
the value whose register the device refuses, so the error can name it.
"""

from __future__ import annotations

from ..errors import (
    DeviceCommunicationError,
    DeviceError,
    DeviceExceptionResponse,
    DeviceTimeoutError,
    ProfileReadError,
)
from ..models import Identity, Reading
from .device import ModbusDevice
from .profile_checks import describe_register, place
from .profile_model import RegisterSpec

# Failures that belong to one request, not to the connection: worth reading value by value.
_PER_REQUEST = (DeviceCommunicationError, DeviceTimeoutError)


async def trial_read(device: ModbusDevice) -> tuple[Identity, Reading]:
    """Identify the device and poll it once; raise ProfileReadError naming the failing value.

    A connection that cannot be opened at all stays a DeviceConnectionError.
    """
    try:
        identity = await device.identify()
    except _PER_REQUEST as err:
        identity_specs = [
            (f"identity.{key}", spec)
            for key, spec in device.profile.identity.items()
            if isinstance(spec, RegisterSpec)
        ]
        raise await _pinpoint(device, identity_specs, err) from err
    try:
        reading = await device.read()
    except _PER_REQUEST as err:
        value_specs = [(f"values.{spec.name}", spec) for spec in device.profile.values]
        raise await _pinpoint(device, value_specs, err) from err
    return identity, reading


async def _pinpoint(
    device: ModbusDevice, specs: list[tuple[str, RegisterSpec]], cause: DeviceError
) -> DeviceError:
    """The first value its device refuses on its own; else the request that failed."""
    for field, spec in specs:
        try:
            await device.read_one(spec)
        except DeviceExceptionResponse as err:
            return ProfileReadError(field, describe_register(spec), err.code, err)
        except _PER_REQUEST as err:
            return ProfileReadError(field, describe_register(spec), None, err)
    # Each value reads on its own, only a planned request fails: it bridges registers the
    # device refuses (max_gap) or asks for too many at once (max_registers).
    for block in device.read_plan:
        try:
            await device.transport.read(block.table, block.unit, block.address, block.count)
        except _PER_REQUEST as err:
            code = err.code if isinstance(err, DeviceExceptionResponse) else None
            fields = ", ".join(f"values.{spec.name}" for spec in block.specs)
            end = block.address + block.count
            where = place(str(block.table), block.address, end, block.unit)
            return ProfileReadError(fields, where, code, err)
    return cause
