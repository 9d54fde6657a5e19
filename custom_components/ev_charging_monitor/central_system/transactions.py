"""Transaction ids the central system hands out, and the transactions still open.

Home Assistant-free and plain JSON, so the registry keeps it in a Store: ids stay unique
across restarts, and a transaction that was open when Home Assistant stopped is still
known when the charger reports on it afterwards. A StartTransaction the charger repeats
(its confirmation was lost) gets the id it got the first time; so does one repeated after
its StopTransaction, and a repeated StopTransaction finds nothing open.

A transaction keeps the registers its meter values stamped, and whether any of its
messages came late (queued by the charger while it was offline or Home Assistant was
down): such a transaction is recorded from its own registers and times (session/late.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from ..session.late import TimedTransaction

# Closed transactions kept per charger, to know a repeated message of one.
KEEP_CLOSED: Final = 16
# Stamped registers kept per transaction (a week of one-minute meter values); later ones
# only lose the price resolution, never energy (that is stop minus start).
MAX_READINGS: Final = 10_080
# OCPP 2.0.1: how many ended station transaction ids a charger's repeats are checked against.
ENDED_KEPT: Final = 32
# The connector whose plug cycles the charger's sessions follow (one charger, one device).
# A transaction on another connector is refused (its id kept to know its later messages).
MAIN_CONNECTOR: Final = 1
REFUSED_KEPT: Final = 32


@dataclass(kw_only=True)
class OpenTransaction:
    """A transaction between StartTransaction and StopTransaction."""

    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: str
    # Any of its messages was queued by the charger (stamped before its connection).
    late: bool = False
    # (ISO time the charger stamped, register in Wh) of each meter value, in order.
    readings: list[tuple[str, float]] = field(default_factory=list)
    # Whom the id tag named when it started (the record's authorization), if known.
    attribution: dict[str, Any] | None = None
    # Problems with the charger's message times (session/late.py flags).
    flags: list[str] = field(default_factory=list)
    # The session the late transaction is recorded as, once chosen (kept for a retry).
    session_id: str | None = None
    # The start time it counts from: `timestamp`, or the arrival when that was no time.
    started_at: str | None = None
    # OCPP 2.0.1: the id the charging station chose (a string), and the seqNo of every
    # TransactionEvent already taken, so a repeated one changes nothing.
    station_transaction_id: str | None = None
    seq_nos: tuple[int, ...] = field(default=(), compare=False)
    # When (ISO arrival) the charger booted while this transaction was open: unless the
    # charger shows it kept it, the transaction may be lost (lost.py decides).
    rebooted_at: str | None = None
    # Why it was closed without its stop (a lost.py flag), for a stop that comes after all.
    lost: str | None = None

    def __post_init__(self) -> None:
        """Stored as a JSON list, read back as a tuple."""
        self.seq_nos = tuple(self.seq_nos)

    def add_reading(self, timestamp: str, register_wh: float) -> bool:
        """Keep a stamped register; False when this message was taken already."""
        reading = (timestamp, register_wh)
        if reading in self.readings or len(self.readings) >= MAX_READINGS:
            return False
        self.readings.append(reading)
        return True

    def flag(self, name: str) -> None:
        """Remember a problem once."""
        if name not in self.flags:
            self.flags.append(name)

    def last_known(self) -> tuple[str, int]:
        """(ISO time, register in Wh) of its last stamped register, else of its start."""
        if self.readings:
            at, register = max(self.readings, key=lambda reading: reading[0])
            return at, max(round(register), self.meter_start)
        return self.started_at or self.timestamp, self.meter_start

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
    # The last transactions each charger stopped, newest last.
    closed: dict[str, list[OpenTransaction]] = field(default_factory=dict)
    # OCPP 2.0.1: per charger, the station transaction ids that ended lately (oldest first).
    ended_station: dict[str, list[str]] = field(default_factory=dict)
    # Per charger, the ids given to transactions on connectors it is not set up for.
    refused: dict[str, list[int]] = field(default_factory=dict)
    # OCPP 2.0.1: per charger, the station transaction ids refused on another EVSE.
    refused_station: dict[str, list[str]] = field(default_factory=dict)

    def start(
        self, charge_point_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> tuple[OpenTransaction, bool]:
        """Open a transaction; the second value is False when it repeats the open one."""
        repeated = self.repeated_start(
            charge_point_id, connector_id, id_tag, meter_start, timestamp
        )
        if repeated is not None:
            return repeated, False
        return self._open(charge_point_id, connector_id, id_tag, meter_start, timestamp), True

    def repeated_start(
        self, charge_point_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str
    ) -> OpenTransaction | None:
        """The transaction a StartTransaction repeats (open or closed), if any."""
        current = self.open.get(charge_point_id)
        if current is not None and current.same_start(connector_id, id_tag, meter_start, timestamp):
            return current
        for done in self.closed.get(charge_point_id, []):
            if done.same_start(connector_id, id_tag, meter_start, timestamp):
                return done
        return None

    def _open(
        self,
        charge_point_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        station_transaction_id: str | None = None,
    ) -> OpenTransaction:
        """A new open transaction with the next id of our own."""
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

    def stop(self, charge_point_id: str, transaction_id: int) -> OpenTransaction | None:
        """Close the transaction; None when it is not open (a repeated stop, or unknown).

        Id -1 is the open one: the charger never got its StartTransaction confirmed
        (OCPP 1.6 errata 3.18).
        """
        current = self.find(charge_point_id, transaction_id)
        if current is None:
            return None
        del self.open[charge_point_id]
        self._keep_closed(charge_point_id, current)
        return current

    def _keep_closed(self, charge_point_id: str, transaction: OpenTransaction) -> None:
        done = self.closed.setdefault(charge_point_id, [])
        # Kept to know a repeated message; its registers are recorded, not needed here.
        done.append(replace(transaction, readings=[]))
        del done[:-KEEP_CLOSED]

    def end_lost(self, charge_point_id: str, reason: str) -> OpenTransaction | None:
        """Close the open transaction whose stop will not come (`reason`: a lost.py flag).

        A stop or an OCPP 2.0.1 event of it that comes after all finds it closed.
        """
        current = self.open.pop(charge_point_id, None)
        if current is None:
            return None
        current.lost = reason
        current.flag(reason)
        self._keep_closed(charge_point_id, current)
        if current.station_transaction_id is not None:
            ended = self.ended_station.setdefault(charge_point_id, [])
            ended.append(current.station_transaction_id)
            del ended[:-ENDED_KEPT]
        return current

    def closed_lost(self, charge_point_id: str, transaction_id: int) -> OpenTransaction | None:
        """The transaction of that id if it was closed without its stop."""
        for done in self.closed.get(charge_point_id, []):
            if done.transaction_id == transaction_id and done.lost is not None:
                return done
        return None

    def closed_station_lost(
        self, charge_point_id: str, station_transaction_id: str
    ) -> OpenTransaction | None:
        """The OCPP 2.0.1 transaction of that id if it was closed without its end."""
        for done in self.closed.get(charge_point_id, []):
            if done.station_transaction_id == station_transaction_id and done.lost is not None:
                return done
        return None

    def refuse(self, charge_point_id: str) -> int:
        """A transaction id for a refused transaction (never opened)."""
        refused = self.refused.setdefault(charge_point_id, [])
        refused.append(self.next_id)
        del refused[:-REFUSED_KEPT]
        self.next_id += 1
        return refused[-1]

    def is_refused(self, charge_point_id: str, transaction_id: int | None) -> bool:
        """Whether that id was given to a refused transaction."""
        return transaction_id in self.refused.get(charge_point_id, ())

    def refuse_station(self, charge_point_id: str, station_transaction_id: str) -> bool:
        """Note an OCPP 2.0.1 transaction on another EVSE; False when noted before."""
        refused = self.refused_station.setdefault(charge_point_id, [])
        if station_transaction_id in refused:
            return False
        refused.append(station_transaction_id)
        del refused[:-REFUSED_KEPT]
        return True

    def is_refused_station(self, charge_point_id: str, station_transaction_id: str) -> bool:
        """Whether that OCPP 2.0.1 transaction was refused (its EVSE is not followed)."""
        return station_transaction_id in self.refused_station.get(charge_point_id, ())

    def find(self, charge_point_id: str, transaction_id: int | None) -> OpenTransaction | None:
        """The open transaction of that id (None or -1: the open one, whatever its id)."""
        current = self.open.get(charge_point_id)
        if current is None or transaction_id not in (current.transaction_id, -1, None):
            return None
        return current

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
        return self._open(
            charge_point_id, connector_id, id_tag, meter_start, timestamp, station_transaction_id
        )

    def take_seq_no(self, charge_point_id: str, seq_no: int) -> bool:
        """Note a TransactionEvent's seqNo for the open transaction; False when seen before."""
        current = self.open.get(charge_point_id)
        if current is None or current.station_transaction_id is None:
            return True
        if seq_no in current.seq_nos:
            return False
        current.seq_nos = (*current.seq_nos, seq_no)
        return True

    def identify_station(self, charge_point_id: str, id_tag: str) -> OpenTransaction | None:
        """The open transaction's id tag, once the station names it after the start."""
        current = self.open.get(charge_point_id)
        if current is not None:
            current.id_tag = id_tag
        return current

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
            "closed": {cp: [asdict(tx) for tx in done] for cp, done in self.closed.items()},
            "ended_station": self.ended_station,
            "refused": self.refused,
            "refused_station": self.refused_station,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransactionBook:
        """Read what `to_dict` wrote."""
        return cls(
            next_id=int(data.get("next_id", 1)),
            open={cp: _transaction(tx) for cp, tx in data.get("open", {}).items()},
            closed={
                cp: [_transaction(tx) for tx in done] for cp, done in data.get("closed", {}).items()
            },
            ended_station={
                cp: [str(tx) for tx in ids] for cp, ids in data.get("ended_station", {}).items()
            },
            refused={cp: [int(tx) for tx in ids] for cp, ids in data.get("refused", {}).items()},
            refused_station={
                cp: [str(tx) for tx in ids] for cp, ids in data.get("refused_station", {}).items()
            },
        )


def _transaction(data: dict[str, Any]) -> OpenTransaction:
    readings = [(str(at), float(wh)) for at, wh in data.get("readings", [])]
    return OpenTransaction(**{**data, "readings": readings})


def timed_transaction(
    transaction: OpenTransaction,
    *,
    session_id: str,
    started_at: datetime,
    ended_at: datetime,
    meter_stop: int,
    end_reason: str = "stopped",
    flags: tuple[str, ...] = (),
    delivered_late: bool = True,
    hold: bool = True,
) -> TimedTransaction:
    """The transaction as session/late.py completes it (times already checked)."""
    readings = []
    for at, register in transaction.readings:
        moment = datetime.fromisoformat(at)
        if started_at <= moment <= ended_at:
            readings.append((moment, Decimal(str(round(register, 3)))))
    return TimedTransaction(
        session_id=session_id,
        started_at=started_at,
        meter_start_wh=Decimal(transaction.meter_start),
        readings=tuple(sorted(readings, key=lambda reading: reading[0])),
        ended_at=ended_at,
        meter_stop_wh=Decimal(meter_stop),
        flags=(*transaction.flags, *flags),
        end_reason=end_reason,
        delivered_late=delivered_late,
        hold_until_unplug=hold,
    )


def transaction_key(charge_point_id: str, transaction: OpenTransaction) -> str:
    """Names a transaction for good: charger, id and start (ids are reused after a reset
    of the store, the start time is not)."""
    return f"{charge_point_id}/{transaction.transaction_id}/{transaction.timestamp}"
