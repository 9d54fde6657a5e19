"""Price points from price sensor attributes, with units normalised to currency per kWh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.pricing.prices import (
    current_price_point,
    entsoe_points,
    epex_spot_points,
    nordpool_action_points,
    nordpool_points,
    price_currency,
    price_factor,
    price_points,
    readable_price_points,
    tibber_action_points,
    tibber_points,
    to_decimal,
)
from custom_components.ev_charging_monitor.pricing.tariff import DynamicTariff, PricePoint

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
OSLO = ZoneInfo("Europe/Oslo")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("unit", "factor", "currency"),
    [
        ("EUR/kWh", D("1"), "EUR"),
        ("€/kWh", D("1"), "EUR"),
        ("ct/kWh", D("0.01"), None),
        ("c/kWh", D("0.01"), None),
        ("öre/kWh", D("0.01"), None),
        ("EUR/MWh", D("0.001"), "EUR"),
        ("SEK/kWh", D("1"), "SEK"),
        ("NOK/MWh", D("0.001"), "NOK"),
        ("p/kWh", D("0.01"), None),
    ],
)
def test_units(unit: str, factor: Decimal, currency: str | None) -> None:
    assert price_factor(unit) == factor
    assert price_currency(unit) == currency


def test_conversions_to_currency_per_kwh() -> None:
    # 123.45 EUR/MWh = 0.12345 EUR/kWh; 29.63 ct/kWh = 0.2963 EUR/kWh.
    assert to_decimal(123.45) * price_factor("EUR/MWh") == D("0.12345")  # type: ignore[operator]
    assert to_decimal("29.63") * price_factor("ct/kWh") == D("0.2963")  # type: ignore[operator]
    # A float goes through its shortest text, so 0.1 stays 0.1 and not 0.1000000000000000055.
    assert to_decimal(0.1) == D("0.1")


@pytest.mark.parametrize(
    "value", [None, "unknown", "unavailable", float("nan"), float("inf"), True]
)
def test_unknown_prices_are_none_not_zero(value: object) -> None:
    assert to_decimal(value) is None


@pytest.mark.parametrize("unit", ["EUR", "kWh", "EUR/kW", "", "EUR per kWh"])
def test_unknown_units_are_refused(unit: str) -> None:
    with pytest.raises(ValueError, match="unknown price unit"):
        price_factor(unit)


def test_nordpool_custom_component() -> None:
    # Attribute datetimes are objects in Home Assistant, ISO text after a JSON round trip.
    today = [
        {
            "start": datetime(2025, 10, 1, h, tzinfo=OSLO),
            "end": datetime(2025, 10, 1, h + 1, tzinfo=OSLO),
            "value": v,
        }
        for h, v in ((0, 1.234), (1, 1.1), (2, None))
    ]
    tomorrow = [
        {"start": "2025-10-02T00:00:00+02:00", "end": "2025-10-02T01:00:00+02:00", "value": 0.9}
    ]
    attributes = {
        "unit_of_measurement": "NOK/kWh",
        "currency": "NOK",
        "raw_today": today,
        "raw_tomorrow": tomorrow,
    }
    points = nordpool_points(attributes)
    assert [p.price_per_kwh for p in points] == [D("1.234"), D("1.1"), None, D("0.9")]
    assert points[0].start == utc(2025, 9, 30, 22)
    assert points[-1].end == utc(2025, 10, 1, 23)
    assert price_points(attributes) == points


def test_nordpool_custom_component_in_cents_without_unit_of_measurement() -> None:
    attributes = {
        "currency": "EUR",
        "unit": "kWh",
        "price_in_cents": True,
        "raw_today": [
            {
                "start": "2025-10-01T00:00:00+02:00",
                "end": "2025-10-01T00:15:00+02:00",
                "value": 25.5,
            }
        ],
        "raw_tomorrow": [],
    }
    assert nordpool_points(attributes)[0].price_per_kwh == D("0.255")


def test_nordpool_core_action_response_is_per_mwh() -> None:
    response = {
        "SE3": [
            {
                "start": "2025-10-01T22:00:00+00:00",
                "end": "2025-10-01T22:15:00+00:00",
                "price": 512.3,
            },
            {
                "start": "2025-10-01T22:15:00+00:00",
                "end": "2025-10-01T22:30:00+00:00",
                "price": -3.1,
            },
        ]
    }
    points = nordpool_action_points(response, "SE3", unit="SEK/MWh")
    assert [p.price_per_kwh for p in points] == [D("0.5123"), D("-0.0031")]
    with pytest.raises(ValueError, match="no prices for area 'SE4'"):
        nordpool_action_points(response, "SE4")


def test_tibber_style_start_times_only_at_quarter_hours() -> None:
    start = datetime(2025, 10, 1, 0, 0, tzinfo=BERLIN)
    today = [
        {"startsAt": (start + timedelta(minutes=15 * i)).isoformat(), "total": t, "energy": 0.1}
        for i, t in enumerate([0.3012, 0.2999, 0.31])
    ]
    # 00:45 is missing: the quarter at 01:00 follows a gap.
    today.append({"startsAt": (start + timedelta(hours=1)).isoformat(), "total": 0.28})
    attributes = {"unit_of_measurement": "EUR/kWh", "today": today, "tomorrow": []}
    points = tibber_points(attributes)
    quarter = timedelta(minutes=15)
    assert [(p.end - p.start, p.price_per_kwh) for p in points] == [
        (quarter, D("0.3012")),
        (quarter, D("0.2999")),
        (quarter, D("0.31")),
        (quarter, D("0.28")),
    ]
    intervals = DynamicTariff(tuple(points), "EUR").price_intervals(
        start, start + timedelta(minutes=75)
    )
    assert [i.price_per_kwh for i in intervals] == [
        D("0.3012"),
        D("0.2999"),
        D("0.31"),
        None,
        D("0.28"),
    ]
    assert price_points(attributes) == points


def test_tibber_action_response() -> None:
    response = {
        "prices": {
            "Home": [
                {"start_time": "2025-10-01T00:00:00+02:00", "price": 0.25},
                {"start_time": "2025-10-01T01:00:00+02:00", "price": 0.27},
            ]
        }
    }
    points = tibber_action_points(response)
    assert points[1] == PricePoint(
        datetime(2025, 10, 1, 1, tzinfo=BERLIN), datetime(2025, 10, 1, 2, tzinfo=BERLIN), D("0.27")
    )


def test_entsoe_style_hourly_over_the_october_clock_change() -> None:
    # 25 hourly prices for 26 October 2025 in Berlin, from 22:00 UTC the day before.
    first = utc(2025, 10, 25, 22)
    rows = [
        {
            "time": (first + timedelta(hours=h)).astimezone(BERLIN).isoformat(),
            "price": round(0.1 + h / 100, 2),
        }
        for h in range(25)
    ]
    attributes = {"unit_of_measurement": "€/kWh", "prices_today": rows, "prices_tomorrow": []}
    points = entsoe_points(attributes)
    assert len(points) == 25
    assert all(p.end - p.start == timedelta(hours=1) for p in points)
    assert points[-1].price_per_kwh == D("0.34")
    assert price_points(attributes) == points


def test_epex_spot_style_keys_name_their_unit() -> None:
    market = {
        "unit_of_measurement": "EUR/MWh",
        "data": [
            {
                "start_time": "2025-10-01T10:00:00+00:00",
                "end_time": "2025-10-01T10:15:00+00:00",
                "price_eur_per_mwh": 96.3,
            }
        ],
    }
    net = {
        "unit_of_measurement": "ct/kWh",
        "data": [
            {
                "start_time": "2025-10-01T10:00:00+00:00",
                "end_time": "2025-10-01T10:15:00+00:00",
                "price_ct_per_kwh": 29.63,
            }
        ],
    }
    assert epex_spot_points(market)[0].price_per_kwh == D("0.0963")
    assert epex_spot_points(net)[0].price_per_kwh == D("0.2963")
    assert price_points(net) == epex_spot_points(net)


def test_generic_sensor_current_price_from_last_changed() -> None:
    changed = utc(2025, 10, 1, 10, 7)
    point = current_price_point(
        "31.5", {"unit_of_measurement": "ct/kWh"}, changed, utc(2025, 10, 1, 11)
    )
    assert point == PricePoint(changed, utc(2025, 10, 1, 11), D("0.315"))
    unknown = current_price_point(
        "unavailable", {"unit_of_measurement": "EUR/kWh"}, changed, utc(2025, 10, 1, 11)
    )
    assert unknown.price_per_kwh is None
    assert price_points({"unit_of_measurement": "EUR/kWh"}) == []


def test_naive_or_unreadable_times_are_refused() -> None:
    naive = {
        "unit_of_measurement": "EUR/kWh",
        "raw_today": [{"start": "2025-10-01T00:00:00", "end": "2025-10-01T01:00:00", "value": 1}],
    }
    with pytest.raises(ValueError, match="naive datetime"):
        nordpool_points(naive)
    garbled = {"unit_of_measurement": "EUR/kWh", "prices_today": [{"time": "soon", "price": 1}]}
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        entsoe_points(garbled)


def test_readable_price_points_leave_out_only_garbled_rows() -> None:
    attributes = {
        "unit_of_measurement": "ct/kWh",
        "raw_today": [
            {"start": "2026-11-18T12:00:00+01:00", "end": "2026-11-18T13:00:00+01:00", "value": 30},
            {"start": "noon", "end": "2026-11-18T14:00:00+01:00", "value": 99},
            {"start": "2026-11-18T14:00:00", "end": "2026-11-18T15:00:00+01:00", "value": 99},
            "not a row",
        ],
    }
    points, problems = readable_price_points(attributes)
    assert points == [
        PricePoint(
            datetime(2026, 11, 18, 11, tzinfo=UTC),
            datetime(2026, 11, 18, 12, tzinfo=UTC),
            Decimal("0.30"),
        )
    ]
    assert len(problems) == 2
    assert "noon" in problems[0]
    assert "no time zone" in problems[1]
