"""What the device library reports: identity, capabilities and one reading per poll."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class DeviceKind(StrEnum):
    """Whether a device charges vehicles or only measures energy."""

    CHARGER = "charger"
    METER = "meter"


class ChargerState(StrEnum):
    """IEC 61851-1 control pilot states."""

    A = "A"  # no vehicle
    B = "B"  # vehicle connected, not charging
    C = "C"  # charging
    D = "D"  # charging, ventilation required
    E = "E"  # no power / short circuit
    F = "F"  # EVSE fault

    @property
    def vehicle_connected(self) -> bool:
        """Whether a vehicle is plugged in."""
        return self in (ChargerState.B, ChargerState.C, ChargerState.D)

    @property
    def charging(self) -> bool:
        """Whether energy flows to the vehicle."""
        return self in (ChargerState.C, ChargerState.D)


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Who made the device and which one it is."""

    manufacturer: str
    model: str
    serial: str | None = None
    firmware: str | None = None
    # The maker's code of the model where `model` is its readable name (Shelly: SPEM-003CEBEU).
    model_id: str | None = None
    # The network interface's hardware address (lower-case, colon-separated), where known.
    mac: str | None = None


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a device can report and be told to do."""

    kind: DeviceKind
    phases: int = 3
    min_current_a: float | None = None
    max_current_a: float | None = None
    can_set_current: bool = False
    can_enable: bool = False
    has_session_energy: bool = False
    has_rfid: bool = False
    has_export_energy: bool = False
    # The current a charger falls back to when its energy manager falls silent can be
    # written (0 keeps a held charger shut during an outage), and so can the timeout.
    can_set_failsafe_current: bool = False
    can_set_failsafe_timeout: bool = False
    # Wh per count of the energy register (a 0.1 kWh register: 100); None where it is
    # fine-grained or not known (floating-point registers).
    energy_resolution_wh: float | None = None
    # The charger itself refuses cards it is not told to accept (OCPP: Authorize and its
    # local list), so nothing has to be held for authorization where it has no control.
    authorizes_itself: bool = False


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One consistent snapshot of a device, taken by one poll.

    A value the device does not have, or reports as "not available", is None, never 0.
    Energies are in Wh, powers in W, currents in A and voltages in V.
    """

    state: ChargerState | None = None
    power: float | None = None
    power_l1: float | None = None
    power_l2: float | None = None
    power_l3: float | None = None
    current_l1: float | None = None
    current_l2: float | None = None
    current_l3: float | None = None
    voltage_l1: float | None = None
    voltage_l2: float | None = None
    voltage_l3: float | None = None
    energy: float | None = None
    energy_export: float | None = None
    session_energy: float | None = None
    current_limit: float | None = None
    enabled: bool | None = None
    rfid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the reading as plain data (for diagnostics)."""
        return asdict(self)


READING_FIELDS: frozenset[str] = frozenset(
    name for name in Reading.__dataclass_fields__ if name != "extra"
)
