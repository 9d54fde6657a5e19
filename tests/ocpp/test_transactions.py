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
