"""Find SunSpec models in a device's register map (the chain behind the "SunS" marker).

SunSpec devices put the marker 0x5375 0x6E53 ("SunS") at a base address (40000, also 0 or
50000), followed by a chain of models, each `[ID][L][L registers]`, ended by ID 0xFFFF.
Where a model sits depends on which models come before it, so a SunSpec profile counts
addresses from the start of a model ("block") and the device is located once, on first use.
Source: devices.md section 16 (sunspec/models json/model_1.json, evcc sunspec detection).
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import DeviceExceptionResponse, UnsupportedDeviceError
from .client import ModbusTransport
from .profile_model import ModbusProfile, Probe, RegisterSpec, Table

MARKER = [0x5375, 0x6E53]  # "SunS"
END_OF_CHAIN = 0xFFFF
MAX_MODELS = 64  # a chain longer than this is not a SunSpec device we understand


async def find_blocks(
    transport: ModbusTransport, profile: ModbusProfile, unit: int
) -> dict[str, tuple[int, int]] | None:
    """Return each block's (start address, model length), or None when the chain lacks one.

    Every base of the profile is tried in turn; a base that answers with an exception or
    without the marker is skipped. Connection errors propagate.
    """
    layout = profile.sunspec
    if layout is None:
        return {}
    for base in layout.bases:
        try:
            if await transport.read(Table.HOLDING, unit, base, 2) != MARKER:
                continue
        except DeviceExceptionResponse:
            continue
        found: dict[str, tuple[int, int]] = {}
        address = base + 2
        for _ in range(MAX_MODELS):
            if address + 2 > 0x10000:
                break
            try:
                model_id, length = await transport.read(Table.HOLDING, unit, address, 2)
            except DeviceExceptionResponse:
                break  # some devices end the chain without the end marker
            if model_id == END_OF_CHAIN:
                break
            for block, ids in layout.blocks.items():
                if block not in found and model_id in ids:
                    found[block] = (address, length)
            if len(found) == len(layout.blocks):
                return found
            address += 2 + length
    return None


def _place(spec: RegisterSpec, blocks: dict[str, tuple[int, int]]) -> RegisterSpec:
    if spec.block is None:
        return spec
    start, length = blocks[spec.block]
    if spec.address + spec.count > length + 2:
        raise UnsupportedDeviceError(
            f"{spec.name}: offset {spec.address} of block {spec.block} is beyond the "
            f"device's model length {length}"
        )
    return replace(spec, address=start + spec.address, block=None)


def place_profile(profile: ModbusProfile, blocks: dict[str, tuple[int, int]]) -> ModbusProfile:
    """Return the profile with absolute addresses for this device's model chain."""
    return replace(
        profile,
        values=tuple(_place(spec, blocks) for spec in profile.values),
        identity={
            key: source if isinstance(source, str) else _place(source, blocks)
            for key, source in profile.identity.items()
        },
        detect=tuple(
            Probe(
                spec=_place(probe.spec, blocks),
                equals=probe.equals,
                one_of=probe.one_of,
                pattern=probe.pattern,
            )
            for probe in profile.detect
        ),
        sunspec=None,
    )


async def locate(transport: ModbusTransport, profile: ModbusProfile, unit: int) -> ModbusProfile:
    """Walk the device's model chain and return the profile placed on it."""
    if profile.sunspec is None:
        return profile
    blocks = await find_blocks(transport, profile, unit)
    if blocks is None:
        wanted = ", ".join(
            f"{name} (model {'/'.join(map(str, ids))})"
            for name, ids in profile.sunspec.blocks.items()
        )
        raise UnsupportedDeviceError(
            f"{transport.host} has no SunSpec model chain with {wanted} at unit {unit}"
        )
    return place_profile(profile, blocks)
