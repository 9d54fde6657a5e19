"""Transaction ids the central system hands out, and the transactions still open.

Home Assistant-free and plain JSON, so the registry keeps it in a Store: ids stay unique
across restarts, and a transaction that was open when Home Assistant stopped is still
known when the charger reports on it afterwards. A StartTransaction the charger repeats
(its confirmation was lost) gets the id it got the first time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

# OCPP 2.0.1: how many ended station transaction ids a charger's repeats are checked against.
ENDED_KEPT: Final = 32


@dataclass(frozen=True, kw_only=True)
class OpenTransaction:
    """A transaction between StartTransaction and StopTransaction."""

    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: str
    # OCPP 2.0.1: the id the charging station chose (a string), and the seqNo of every
    # TransactionEvent already taken, so a repeated one changes nothing.
    station_transaction_id: str | None = None
    seq_nos: tuple[int, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        """Stored as a JSON list, read back as a tuple."""
        object.__setattr__(self, "seq_nos", tuple(self.seq_nos))

    def same_start(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str) -> bool:
        """Whether a StartTransaction repeats the one that opened this transaction."""
        return (self.connector_id, self.id_tag, self.meter_start, self.timestamp) == (
            connector_id,
            id_tag,
            meter_start,
            timestamp,
        )


@dataclass
class TransactionBook:
    """Every charger's open transactions and the next id."""

    next_id: int = 1
    open: dict[str, OpenTransaction] = field(default_factory=dict)
    # OCPP 2.0.1: per charger, the station transaction ids that ended lately (oldest first).
    ended_station: dict[str, list[str]] = field(default_factory=dict)

    def start(
        self, charge_point_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> tuple[OpenTransaction, bool]:
        """Open a transaction; the second value is False when it repeats the open one."""
        current = self.open.get(charge_point_id)
        if current is not None and current.same_start(connector_id, id_tag, meter_start, timestamp):
            return current, False
        transaction = OpenTransaction(
            transaction_id=self.next_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=timestamp,
        )
        self.next_id += 1
        self.open[charge_point_id] = transaction
        return transaction, True

    def stop(self, charge_point_id: str, transaction_id: int) -> OpenTransaction | None:
        """Close the transaction; None when it is not open (a repeated stop, or unknown).

        Id -1 is the open one: the charger never got its StartTransaction confirmed
        (OCPP 1.6 errata 3.18).
        """
        current = self.open.get(charge_point_id)
        if current is None or transaction_id not in (current.transaction_id, -1):
            return None
        return self.open.pop(charge_point_id)

    def station_transaction(
        self, charge_point_id: str, station_transaction_id: str
    ) -> OpenTransaction | None:
        """The open transaction of that OCPP 2.0.1 station transaction id, if it is open."""
        current = self.open.get(charge_point_id)
        if current is None or current.station_transaction_id != station_transaction_id:
            return None
        return current

    def station_ended(self, charge_point_id: str, station_transaction_id: str) -> bool:
        """Whether that OCPP 2.0.1 transaction ended already (a later event is a repeat)."""
        return station_transaction_id in self.ended_station.get(charge_point_id, ())

    def start_station(
        self,
        charge_point_id: str,
        station_transaction_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
    ) -> OpenTransaction:
        """Open an OCPP 2.0.1 transaction under the station's id (with an id of our own too).

        An open transaction of another id is replaced: the station began a new one, so the
        old one's end was lost.
        """
        transaction = OpenTransaction(
            transaction_id=self.next_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=timestamp,
            station_transaction_id=station_transaction_id,
        )
        self.next_id += 1
        self.open[charge_point_id] = transaction
        return transaction

    def take_seq_no(self, charge_point_id: str, seq_no: int) -> bool:
        """Note a TransactionEvent's seqNo for the open transaction; False when seen before."""
        current = self.open.get(charge_point_id)
        if current is None or current.station_transaction_id is None:
            return True
        if seq_no in current.seq_nos:
            return False
        self.open[charge_point_id] = replace(current, seq_nos=(*current.seq_nos, seq_no))
        return True

    def identify_station(self, charge_point_id: str, id_tag: str) -> OpenTransaction | None:
        """The open transaction's id tag, once the station names it after the start."""
        current = self.open.get(charge_point_id)
        if current is None or current.id_tag == id_tag:
            return current
        self.open[charge_point_id] = replace(current, id_tag=id_tag)
        return self.open[charge_point_id]

    def stop_station(
        self, charge_point_id: str, station_transaction_id: str
    ) -> OpenTransaction | None:
        """Close an OCPP 2.0.1 transaction; None when it is not open."""
        if self.station_transaction(charge_point_id, station_transaction_id) is None:
            return None
        ended = self.ended_station.setdefault(charge_point_id, [])
        ended.append(station_transaction_id)
        del ended[:-ENDED_KEPT]
        return self.open.pop(charge_point_id)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "next_id": self.next_id,
            "open": {cp: asdict(tx) for cp, tx in self.open.items()},
            "ended_station": self.ended_station,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransactionBook:
        """Read what `to_dict` wrote."""
        return cls(
            next_id=int(data.get("next_id", 1)),
            open={cp: OpenTransaction(**tx) for cp, tx in data.get("open", {}).items()},
            ended_station={
                cp: [str(tx) for tx in ids] for cp, ids in data.get("ended_station", {}).items()
            },
        )
