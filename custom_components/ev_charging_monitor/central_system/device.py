"""The driver of an OCPP charger: its reading is what it last reported (no I/O)."""

from __future__ import annotations

from ..devices import Capabilities, DeviceError, DeviceKind, Identity, Reading
from ..devices.errors import UnsupportedDeviceError
from .charger import BootInfo, OcppCharger


class OcppDevice:
    """A charger connected to the central system, seen through the Device interface."""

    def __init__(self, charger: OcppCharger, boot: BootInfo) -> None:
        """`boot` is what the charger said when it was accepted (until it boots again)."""
        self.charger = charger
        self.host = charger.charge_point_id
        self.boot = boot

    @property
    def capabilities(self) -> Capabilities:
        """It measures and authorises; control over OCPP is not built yet."""
        return Capabilities(kind=DeviceKind.CHARGER, phases=3)

    async def identify(self) -> Identity:
        """Vendor, model, serial and firmware of the BootNotification."""
        boot = self.boot
        return Identity(
            manufacturer=boot.vendor, model=boot.model, serial=boot.serial, firmware=boot.firmware
        )

    def meter_identity(self) -> Identity | None:
        """The built-in meter: as its signed values name it, else as the BootNotification does.

        The serial inside signed values (OCMF MS) is signed by the meter itself, so it is the
        identity the ledger checks the values against; the boot message's is only reported.
        """
        boot = self.boot
        signed = self.charger.signed
        serial = signed.meter_serial or boot.meter_serial
        if serial is None:
            return None
        model = (signed.meter_model if signed.meter_serial else None) or boot.meter_type
        return Identity(manufacturer=boot.vendor, model=model or boot.model, serial=serial)

    async def read(self) -> Reading:
        """The last reported values; unavailable while the charger is not connected."""
        if not self.charger.connected:
            raise DeviceError(f"{self.host} is not connected to the OCPP central system")
        return self.charger.reading()

    async def set_current_limit(self, amps: float) -> None:
        """Not over OCPP yet (SetChargingProfile)."""
        raise UnsupportedDeviceError("current limits over OCPP are not supported yet")

    async def set_enabled(self, enabled: bool) -> None:
        """Not over OCPP yet (RemoteStart/RemoteStop)."""
        raise UnsupportedDeviceError("starting and stopping over OCPP is not supported yet")

    async def set_failsafe(
        self, *, current_a: float | None = None, timeout_s: float | None = None
    ) -> None:
        """OCPP chargers decide by their own authorization while the server is away."""
        raise UnsupportedDeviceError("no failsafe over OCPP")

    @property
    def watchdog_interval(self) -> float | None:
        """The charger keeps its connection alive itself."""
        return None

    async def keep_alive(self) -> None:
        """Nothing to do."""

    async def close(self) -> None:
        """The connection belongs to the central system, not to the entry."""
