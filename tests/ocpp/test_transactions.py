"""The transaction book: ids, repeated messages, what survives a restart (transactions.py)."""

from __future__ import annotations

from custom_components.ev_charging_monitor.central_system.transactions import TransactionBook

START = ("CP", 1, "04AA", 1000, "2026-11-30T10:00:00Z")


def test_repeated_start_and_stop_and_ids_across_a_restart() -> None:
    book = TransactionBook()
    first, new = book.start(*START)
    assert (first.transaction_id, new) == (1, True)
    assert book.start(*START) == (first, False)  # its confirmation was lost
    first.late = True
    assert first.add_reading("2026-11-30T10:10:00Z", 2000.0)
    assert not first.add_reading("2026-11-30T10:10:00Z", 2000.0)  # the same message again
    assert book.stop("CP", 1) is first
    assert book.stop("CP", 1) is None  # a stop sent again finds nothing open
    # A restart: only what to_dict wrote.
    again = TransactionBook.from_dict(book.to_dict())
    closed, new = again.start(*START)  # the start once more, after its stop
    assert (closed.transaction_id, new) == (1, False)
    assert closed.readings == []  # a closed transaction keeps no registers
    assert again.open == {}
    following, new = again.start("CP", 1, "04AA", 2000, "2026-11-30T11:00:00Z")
    assert (following.transaction_id, new) == (2, True)


def test_an_open_transaction_keeps_its_late_registers_across_a_restart() -> None:
    book = TransactionBook()
    transaction, _ = book.start(*START)
    transaction.late = True
    transaction.add_reading("2026-11-30T10:10:00Z", 1500.5)
    transaction.flag("charger_clock_invalid")
    transaction.attribution = {"person": "Alex"}
    restored = TransactionBook.from_dict(book.to_dict()).open["CP"]
    assert restored == transaction
    assert book.find("CP", -1) is transaction  # a stop that never learnt its id
    assert book.find("CP", 7) is None


def test_a_lost_transaction_is_closed_with_its_reason_and_known_after_a_restart() -> None:
    """A transaction ended without its stop: closed with the reason, its last register
    known; its stop (or a 2.0.1 event) found later; ids of refused connectors kept."""
    book = TransactionBook()
    transaction, _ = book.start(*START)
    assert transaction.last_known() == ("2026-11-30T10:00:00Z", 1000)  # nothing measured
    transaction.add_reading("2026-11-30T10:20:00Z", 3000.4)
    transaction.add_reading("2026-11-30T10:10:00Z", 2000.0)  # an older one, sent later
    transaction.rebooted_at = "2026-11-30T10:21:00Z"
    assert transaction.last_known() == ("2026-11-30T10:20:00Z", 3000)
    assert book.end_lost("CP", "stop_missing_after_reboot") is transaction
    assert book.end_lost("CP", "stop_missing_after_reboot") is None  # nothing open
    refused = book.refuse("CP")
    assert refused == 2  # an id of its own, never reused
    again = TransactionBook.from_dict(book.to_dict())
    assert again.open == {}
    lost = again.closed_lost("CP", 1)
    assert lost is not None
    assert lost.lost == "stop_missing_after_reboot"
    assert "stop_missing_after_reboot" in lost.flags
    assert again.closed_lost("CP", 2) is None
    assert again.is_refused("CP", refused)
    assert not again.is_refused("CP", 1)
    assert again.stop("CP", 1) is None  # its stop, after all, closes nothing
    following, new = again.start("CP", 1, "04AA", 3100, "2026-11-30T11:00:00Z")
    assert (following.transaction_id, new) == (3, True)


def test_a_lost_201_transaction_counts_as_ended() -> None:
    book = TransactionBook()
    book.start_station("CS", "uuid-1", 1, "04AA", 1000, "2026-11-30T10:00:00Z")
    assert book.end_lost("CS", "stop_missing_new_transaction") is not None
    assert book.station_ended("CS", "uuid-1")
    lost = book.closed_station_lost("CS", "uuid-1")
    assert lost is not None
    assert lost.lost == "stop_missing_new_transaction"
