"""Price books: the newest publication wins where lists overlap; nothing is guessed.

Expected prices are written out by hand for each quarter hour.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from custom_components.ev_charging_monitor.pricing.points import PriceBook
from custom_components.ev_charging_monitor.pricing.tariff import PricePoint

T0 = datetime(2026, 11, 18, 12, tzinfo=UTC)
Q = timedelta(minutes=15)
H = timedelta(hours=1)


def point(start: datetime, length: timedelta, price: str | None) -> PricePoint:
    return PricePoint(start, start + length, None if price is None else Decimal(price))


def price_at(book: PriceBook, moment: datetime) -> Decimal | str | None:
    """The price at a moment, found by a plain scan (no code of the tariff module)."""
    for one in book.points:
        if one.start <= moment < one.end:
            return one.price_per_kwh
    return "no point"


def test_an_hourly_list_after_a_quarter_hour_list_replaces_it_over_that_hour() -> None:
    book = PriceBook()
    quarters = [point(T0 + i * Q, Q, p) for i, p in enumerate(["0.10", "0.20", "0.30", "0.40"])]
    assert book.publish([*quarters, point(T0 + H, H, "0.50")]) == []
    assert book.publish([point(T0, H, "0.25")]) == []
    assert [price_at(book, T0 + i * Q) for i in range(8)] == [Decimal("0.25")] * 4 + [
        Decimal("0.50")
    ] * 4
    # Non-overlapping, in order: a tariff can be built from them (it refuses overlaps).
    assert len(book.tariff("EUR", "x").points) == 2


def test_a_quarter_hour_list_after_an_hourly_one_splits_it() -> None:
    book = PriceBook()
    book.publish([point(T0, 2 * H, "0.30")])
    book.publish([point(T0 + Q, Q, "0.10"), point(T0 + 2 * Q, Q, "0.20")])
    assert [price_at(book, T0 + i * Q) for i in range(8)] == [
        Decimal("0.30"),
        Decimal("0.10"),
        Decimal("0.20"),
        *[Decimal("0.30")] * 5,
    ]
    assert [(p.start, p.end) for p in book.points] == [
        (T0, T0 + Q),
        (T0 + Q, T0 + 2 * Q),
        (T0 + 2 * Q, T0 + 3 * Q),
        (T0 + 3 * Q, T0 + 2 * H),
    ]


def test_a_gap_in_the_new_list_keeps_the_older_price_there() -> None:
    book = PriceBook()
    book.publish([point(T0, H, "0.30")])
    book.publish([point(T0, Q, "0.10"), point(T0 + 3 * Q, Q, "0.40")])
    assert [price_at(book, T0 + i * Q) for i in range(4)] == [
        Decimal("0.10"),
        Decimal("0.30"),
        Decimal("0.30"),
        Decimal("0.40"),
    ]


def test_a_republished_list_changes_nothing_and_a_correction_wins() -> None:
    book = PriceBook()
    today = [point(T0 + i * H, H, str(i)) for i in range(3)]
    book.publish(today)
    book.publish(today)
    assert len(book.points) == 3
    book.publish([point(T0 + H, H, "9")])
    assert [price_at(book, T0 + i * H) for i in range(3)] == [
        Decimal(0),
        Decimal(9),
        Decimal(2),
    ]


def test_unusable_points_are_left_out_with_a_reason_and_unknown_prices_stay_unknown() -> None:
    book = PriceBook()
    naive = PricePoint(datetime(2026, 11, 18, 13), datetime(2026, 11, 18, 14), Decimal(1))
    backwards = PricePoint(T0 + 2 * H, T0 + H, Decimal(1))
    nan = PricePoint(T0 + 3 * H, T0 + 4 * H, Decimal("NaN"))
    problems = book.publish([point(T0, H, None), naive, backwards, nan])
    assert len(problems) == 3
    assert "time zone" in problems[0]
    assert "no duration" in problems[1]
    assert "not a number" in problems[2]
    assert price_at(book, T0) is None  # a known gap, never 0
    assert price_at(book, T0 + 3 * H) == "no point"


def test_negative_market_prices_are_prices() -> None:
    book = PriceBook()
    assert book.publish([point(T0, H, "-0.05")]) == []
    assert price_at(book, T0) == Decimal("-0.05")


def test_prune_keeps_what_is_still_needed() -> None:
    book = PriceBook()
    book.publish([point(T0 + i * H, H, "0.1") for i in range(4)])
    assert book.prune(T0 + H + Q) == 1  # the hour that ended before the cutoff
    assert book.points[0].start == T0 + H  # the hour holding the cutoff stays whole


def test_storage_round_trip_is_exact_and_survives_garbage() -> None:
    book = PriceBook()
    book.publish([point(T0, Q, "0.123456789"), point(T0 + Q, Q, None)])
    data = json.loads(json.dumps(book.to_dict()))
    again, problems = PriceBook.from_dict(data)
    assert problems == []
    assert again.points == book.points
    data["points"].append(["yesterday", "today", "1"])
    data["points"].append([T0.isoformat(), (T0 + Q).isoformat(), "lots"])
    again, problems = PriceBook.from_dict(data)
    assert len(problems) == 2
    assert again.points == book.points
    empty, problems = PriceBook.from_dict(["not", "a", "book"])
    assert empty.points == []
    assert problems


def test_a_list_overlapping_itself_is_read_in_published_order() -> None:
    book = PriceBook()
    book.publish([point(T0, H, "0.30"), point(T0 + Q, Q, "0.10"), point(T0, Q, "0.20")])
    assert [price_at(book, T0 + i * Q) for i in range(4)] == [
        Decimal("0.20"),
        Decimal("0.10"),
        Decimal("0.30"),
        Decimal("0.30"),
    ]


def test_a_year_of_quarter_hours_published_twice_stays_fast() -> None:
    year = [point(T0 + i * Q, Q, str(i % 97)) for i in range(35_040)]
    started = time.perf_counter()
    book = PriceBook()
    book.publish(year)
    book.publish(year[::-1])  # the same prices in reverse order
    book.publish([point(T0 + Q, 1000 * H, "1")])  # one point over six weeks of them
    elapsed = time.perf_counter() - started
    assert len(book.points) == 35_040 - 4000 + 1
    assert price_at(book, T0) == Decimal(0)
    assert price_at(book, T0 + 4001 * Q) == Decimal(4001 % 97)
    assert elapsed < 5  # seconds (about 0.3 here): the poll must never wait on a price list


def test_a_huge_list_is_cut_and_says_so() -> None:
    book = PriceBook()
    problems = book.publish(point(T0 + i * Q, Q, "0.1") for i in range(100_001))
    assert len(book.points) == 100_000
    assert problems == ["more than 100000 prices in one list; the rest is left out"]
