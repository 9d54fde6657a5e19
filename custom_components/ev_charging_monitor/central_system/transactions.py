"""Transaction ids the central system hands out, and the transactions still open.

Home Assistant-free and plain JSON, so the registry keeps it in a Store: ids stay unique
across restarts, and a transaction that was open when Home Assistant stopped is still
known when the charger reports on it afterwards. A StartTransaction the charger repeats
(its confirmation was lost) gets the id it got the first time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class OpenTransaction:
    """A transaction between StartTransaction and StopTransaction."""

    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: str

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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "next_id": self.next_id,
            "open": {cp: asdict(tx) for cp, tx in self.open.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransactionBook:
        """Read what `to_dict` wrote."""
        return cls(
            next_id=int(data.get("next_id", 1)),
            open={cp: OpenTransaction(**tx) for cp, tx in data.get("open", {}).items()},
        )
