"""The simulated OCPP 2.0.1 station's meter: its register, its sampled values and the OCMF
records it signs (mixed into GenericOcpp201Station, which holds the state).

The register is the exact integral of the power over time (a fraction of Wh), reported
rounded to whole Wh as a meter with 1 Wh resolution does; `energy_multiplier` 3 reports it
as kWh. The Transaction.End reading can carry an OCMF `signedMeterValue` with the begin
and end readings (base64, as 2.0.1 asks).
"""

from __future__ import annotations

import base64
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v201 import call
from ocpp.v201.datatypes import (
    MeterValueType,
    SampledValueType,
    SignedMeterValueType,
    UnitOfMeasureType,
)
from ocpp.v201.enums import (
    LocationEnumType,
    MeasurandEnumType,
    PhaseEnumType,
    ReadingContextEnumType,
)

from .ocmf_signing import ocmf_reading, signed_ocmf
from .ocpp_link import stamp

# Line-to-neutral voltage the per-phase currents are derived with.
PHASE_VOLTAGE = 230


class StationMeter:
    """The meter part of the station."""

    if TYPE_CHECKING:  # the station's own
        vendor: ClassVar[str]
        serial: str
        firmware: str
        register: Fraction
        at: datetime
        energy_multiplier: int
        signing_key: ec.EllipticCurvePrivateKey | None
        seq_no: int
        sent_ocmf: list[str]
        _begin: tuple[datetime, int] | None

        async def send(self, payload: Any) -> Any: ...

    # -- the meter -----------------------------------------------------------------------

    @property
    def register_wh(self) -> int:
        """What the meter shows: the register at 1 Wh resolution."""
        return round(self.register)

    def _energy_value(self) -> float:
        if self.energy_multiplier == 0:
            return self.register_wh
        return round(self.register_wh / float(10**self.energy_multiplier), self.energy_multiplier)

    def _sampled(self, context: str, power_w: float, *, signed: bool = False) -> MeterValueType:
        reading_context = ReadingContextEnumType(context)
        signed_value = None
        if signed and self.signing_key is not None:
            record = self.ocmf(context)
            self.sent_ocmf.append(record)
            signed_value = SignedMeterValueType(
                signed_meter_data=base64.b64encode(record.encode()).decode(),
                signing_method="",
                encoding_method="OCMF",
                public_key=self.public_key_text,
            )
        values = [
            SampledValueType(
                value=self._energy_value(),
                context=reading_context,
                measurand=MeasurandEnumType.energy_active_import_register,
                unit_of_measure=UnitOfMeasureType(unit="Wh", multiplier=self.energy_multiplier),
                signed_meter_value=signed_value,
            ),
            SampledValueType(
                value=round(power_w, 1),
                context=reading_context,
                measurand=MeasurandEnumType.power_active_import,
                unit_of_measure=UnitOfMeasureType(unit="W"),
            ),
        ]
        for phase in (PhaseEnumType.l1, PhaseEnumType.l2, PhaseEnumType.l3):
            values.append(
                SampledValueType(
                    value=round(power_w / PHASE_VOLTAGE / 3, 2),
                    context=reading_context,
                    measurand=MeasurandEnumType.current_import,
                    phase=phase,
                    unit_of_measure=UnitOfMeasureType(unit="A"),
                )
            )
        return MeterValueType(timestamp=stamp(self.at), sampled_value=values)

    @property
    def public_key_text(self) -> str:
        """The meter's public key as 2.0.1 carries it: base64 of the OCA key text."""
        if self.signing_key is None:
            return ""
        der = self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(f"oca:base16:asn1:{der.hex()}".encode()).decode()

    def ocmf(self, context: str) -> str:
        """An OCMF record of the transaction's begin (and end) reading, signed."""
        assert self.signing_key is not None
        assert self._begin is not None

        begin_at, begin_wh = self._begin
        readings = [ocmf_reading(begin_at, "B", begin_wh)]
        if context == "Transaction.End":
            readings.append(ocmf_reading(self.at, "E", self.register_wh))
        return signed_ocmf(
            {
                "FV": "1.0",
                "GI": self.vendor,
                "GS": self.serial,
                "GV": self.firmware,
                "PG": f"T{self.seq_no}",
                "IS": True,
                "IT": "ISO14443",
                "RD": readings,
            },
            self.signing_key,
        )

    # -- signals: the limits offered to the vehicle and its state of charge --------------

    async def signals(
        self,
        *,
        current_offered: float | None = None,
        power_offered: float | None = None,
        power_multiplier: int = 0,
        soc: float | None = None,
    ) -> None:
        """One MeterValues with Current.Offered (A), Power.Offered (W times 10^
        `power_multiplier`) and the vehicle's SoC (Percent, location EV), each as given
        (NaN and huge numbers too: JSON numbers as Python writes them)."""
        context = ReadingContextEnumType.sample_periodic
        values: list[SampledValueType] = []
        if current_offered is not None:
            values.append(
                SampledValueType(
                    value=current_offered,
                    context=context,
                    measurand=MeasurandEnumType.current_offered,
                    unit_of_measure=UnitOfMeasureType(unit="A"),
                )
            )
        if power_offered is not None:
            values.append(
                SampledValueType(
                    value=power_offered,
                    context=context,
                    measurand=MeasurandEnumType.power_offered,
                    unit_of_measure=UnitOfMeasureType(unit="W", multiplier=power_multiplier),
                )
            )
        if soc is not None:
            values.append(
                SampledValueType(
                    value=soc,
                    context=context,
                    measurand=MeasurandEnumType.soc,
                    location=LocationEnumType.ev,
                    unit_of_measure=UnitOfMeasureType(unit="Percent"),
                )
            )
        meter_value = MeterValueType(timestamp=stamp(self.at), sampled_value=values)
        await self.send(call.MeterValues(evse_id=1, meter_value=[meter_value]))
