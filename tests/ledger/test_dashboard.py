"""The dashboard tells the truth: axis ticks, empty states, tiles that agree with the charts.

Expected figures are written out by hand or summed here from the records the test made,
never taken from the dashboard's own code.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
from ev_charging_ledger.ui import charts
from ev_charging_ledger.ui import dashboard as dashboard_data
from tests.ledger.integration_records import make_record

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "dashboard-test-token"


@pytest.mark.parametrize(
    ("peak", "expected"),
    [
        (7, ["0", "2", "4", "6", "8"]),
        (100, ["0", "20", "40", "60", "80", "100"]),
        (0.3, ["0", "0.1", "0.2", "0.3"]),
        (1, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        (1234, ["0", "500", "1000", "1500"]),
        (5.01, ["0", "2", "4", "6"]),
        (0.04, ["0", "0.01", "0.02", "0.03", "0.04"]),
        (3_600_000, ["0", "1000000", "2000000", "3000000", "4000000"]),
        # Nothing to show, or nothing sensible: a unit axis, never a tick at mid-height.
        (0, ["0", "1"]),
        (-5, ["0", "1"]),
        (math.nan, ["0", "1"]),
        (math.inf, ["0", "1"]),
    ],
)
def test_ticks_by_hand(peak: float, expected: list[str]) -> None:
    assert [str(tick.normalize()) if tick else "0" for tick in charts.ticks(peak)] == [
        str(value) for value in (Decimal(text).normalize() for text in expected)
    ]


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_ticks_are_nice_and_tight(peak: float) -> None:
    axis = charts.ticks(peak)
    step = axis[1] - axis[0]
    digits = step.normalize().as_tuple().digits
    assert digits in ((1,), (2,), (5,)), step  # 1, 2 or 5 times a power of ten
    assert axis[0] == 0
    assert all(b - a == step for a, b in itertools.pairwise(axis))
    assert axis[-1] >= Decimal(str(peak))  # the highest bar fits
    assert axis[-2] < Decimal(str(peak))  # and the axis is not taller than needed
    assert 2 <= len(axis) <= 6
    # The next smaller nice step (5 -> 2, 2 -> 1, 1 -> 0.5) would need more than five.
    smaller = step * 2 / 5 if digits == (5,) else step / 2
    assert math.ceil(Decimal(str(peak)) / smaller) > 5


def test_places_follow_the_step() -> None:
    assert charts.places(Decimal("0.5")) == 1
    assert charts.places(Decimal("0.02")) == 2
    assert charts.places(Decimal(20)) == 0
    assert charts.places(Decimal("1E+2")) == 0


def _german(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def test_bar_chart_labels_every_tick_with_its_unit_and_is_accessible() -> None:
    chart = charts.BarChart(
        chart_id="energy",
        title="Energie",
        labels=["Jan", "Feb", "Mär"],
        long_labels=["Jan 2026", "Feb 2026", "Mär 2026"],
        values=[0.0, 7.2, 3.25],
        unit="kWh",
        empty="leer",
    )
    svg = charts.bar_chart(chart, _german)
    assert 'role="img"' in svg
    assert 'aria-labelledby="energy-title energy-desc"' in svg
    assert re.findall(r'class="tick[^"]*"[^>]*>([^<]*)<', svg) == [
        "0 kWh", "2 kWh", "4 kWh", "6 kWh", "8 kWh",
    ]  # fmt: skip
    assert 'class="tick baseline"' in svg  # the zero line is labelled and drawn darker
    assert "<title>Feb 2026: 7,2 kWh</title>" in svg
    assert "<title>Mär 2026: 3,2 kWh</title>" in svg or "<title>Mär 2026: 3,3 kWh</title>" in svg


@pytest.mark.parametrize("values", [[], [0.0, 0.0], [math.nan, -1.0]])
def test_empty_chart_says_what_to_do(values: list[float]) -> None:
    chart = charts.BarChart(
        chart_id="cost",
        title="Cost",
        labels=["x"] * len(values),
        long_labels=["x"] * len(values),
        values=values,
        unit="EUR",
        empty="Set a tariff to see costs.",
    )
    html = charts.bar_chart(chart, _german)
    assert html == '<p class="empty" id="cost-empty">Set a tariff to see costs.</p>'


def test_heatmap_empty_and_filled() -> None:
    counts = [[0] * 24 for _ in range(7)]
    chart = charts.Heatmap("heat", "Starts", counts, list("MTWTFSS"), "{day} {hour}: {count}", "no")
    assert charts.heatmap(chart) == '<p class="empty" id="heat-empty">no</p>'
    counts[2][18] = 3
    svg = charts.heatmap(
        charts.Heatmap("heat", "Starts", counts, list("MTWTFSS"), "{day} {hour}: {count}", "no")
    )
    assert "<title>W 18:00: 3</title>" in svg
    assert ">18:00<" in svg
    assert ">00:00<" in svg


def _month_of(moment: datetime) -> str:
    return f"{moment.astimezone(BERLIN):%Y-%m}"


def _seed(ledger: Ledger, now: datetime) -> dict[str, object]:
    """Sessions this month (two with a person, two without, one reassigned to a person)
    and last month; expected figures summed here from the records."""
    alice = ledger.add_person("Alice", ha_user_id="alice-user")
    month_start = datetime.now(BERLIN).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Sessions early in the month (or, on the 1st, within the hours already passed).
    span = max((now - month_start.astimezone(UTC)).total_seconds() / 3600 - 1, 0.5)
    this_month = [
        make_record(
            seq,
            started=month_start.astimezone(UTC) + timedelta(hours=span * seq / 6),
            minutes=5,
            energy_wh=1_000 * seq + 123,
            cost_total=f"{seq}.10",
            user_id="alice-user" if seq <= 2 else None,
        )
        for seq in range(1, 5)
    ]
    last_month = [
        make_record(
            10 + seq,
            started=month_start.astimezone(UTC) - timedelta(days=3 + seq),
            energy_wh=20_000,
            cost_total="6.00",
        )
        for seq in range(3)
    ]
    ledger.append_sessions([*this_month, *last_month])
    # One of the unattributed sessions is assigned in the UI's way: an adjustment.
    ledger.add_adjustment(
        this_month[3]["id"], "reassign", reason="was Alice", author="admin",
        data={"person_id": alice.id, "vehicle_id": None},
    )  # fmt: skip
    return {
        "alice": alice.id,
        "month_energy_kwh": sum(1_000 * s + 123 for s in range(1, 5)) / 1000,  # 10.492
        "month_cost": 1.10 + 2.10 + 3.10 + 4.10,
        "month_sessions": 4,
        "unattributed": 1,  # seq 3: no user, not reassigned
        "last_month_kwh": 60.0,
        "this_month_ids": [r["id"] for r in this_month],
    }


def test_tiles_agree_with_the_charts(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    expected = _seed(ledger, now)
    data = dashboard_data.build(ledger, None, False, BERLIN, now)
    assert data.month == _month_of(now)
    assert data.months[-1] == data.month
    assert len(data.months) == 12
    # The tiles are the last bar: the same sessions, with or without a person.
    assert data.month_sessions == data.sessions[-1] == expected["month_sessions"]
    assert data.month_energy_kwh == pytest.approx(expected["month_energy_kwh"])
    assert data.energy_kwh[-1] == pytest.approx(expected["month_energy_kwh"])
    assert data.month_cost == pytest.approx(expected["month_cost"])
    assert data.energy_kwh[-2] == pytest.approx(expected["last_month_kwh"])
    assert data.unattributed == expected["unattributed"]
    # Three of the four have a person: the reimbursement counts those.
    assert data.reimbursed_sessions == 3

    # A non-admin's dashboard: the same agreement over their own sessions only.
    own = dashboard_data.build(ledger, expected["alice"], True, BERLIN, now)  # type: ignore[arg-type]
    assert own.month_sessions == own.sessions[-1] == 3
    assert own.month_energy_kwh == pytest.approx((1_123 + 2_123 + 4_123) / 1000)
    assert own.unattributed == 0
    assert own.energy_kwh[-2] == 0


@pytest.fixture
async def client(ledger: Ledger) -> TestClient:  # type: ignore[misc]
    app = create_app(ledger, TokenAccess(TOKEN, None))
    async with TestClient(TestServer(app)) as opened:
        yield opened


async def test_rendered_tiles_match_the_rendered_chart(ledger: Ledger, client: TestClient) -> None:
    now = datetime.now(UTC)
    expected = _seed(ledger, now)
    response = await client.get("/?lang=de", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    html = await response.text()
    energy = re.search(r'id="month-energy">([^<]*)<', html)
    assert energy is not None
    kwh = f"{expected['month_energy_kwh']:.3f}".replace(".", ",")
    assert energy.group(1) == f"{kwh} kWh"
    bars = re.findall(
        r"<rect [^>]*><title>([^<]*)</title>", html.split('id="energy-chart"')[1].split("</svg>")[0]
    )
    # The last bar of the energy chart is this month, with the tile's energy (one decimal
    # place at this scale).
    assert bars[-1].endswith(
        f"{float(expected['month_energy_kwh']):.1f}".replace(".", ",") + " kWh"
    )
    assert 'id="month-sessions">4 Ladevorgänge<' in html
    assert 'id="unattributed-hint"' in html
    link = re.search(r'href="([^"]*)" id="unattributed-link"', html)
    assert link is not None
    assert link.group(1).startswith("/sessions?from=")
    assert "#bulk-form" in link.group(1)


async def test_empty_ledger_says_what_to_do(client: TestClient) -> None:
    response = await client.get("/?lang=en", headers={"Authorization": f"Bearer {TOKEN}"})
    html = await response.text()
    assert "<svg" not in html
    assert 'id="energy-chart-empty"' in html
    assert "External session" in html
    assert 'id="cost-chart-empty"' in html
    assert "set a tariff" in html
    assert 'id="chargers-empty"' in html
    assert 'id="month-energy">0.000 kWh<' in html
    assert 'id="unattributed-hint"' not in html


def test_session_over_a_month_end_is_charted_as_the_statements_split_it(ledger: Ledger) -> None:
    """31 Oct 2026 23:00 -> 1 Nov 03:00 Berlin (22:00Z -> 02:00Z, four real hours, midnight
    one hour in): the October bar holds its first hour, the November bar the rest, as the
    two months' statements do; the session counts in both months (a row on each).

    By hand: 7001 Wh x 1/4 = 1750.25 -> 1750 Wh in October, 5251 Wh in November. Tariff
    cost 2.10 in proportion to time: 0.525 -> 0.53 (half up) in October, 2.10 - 0.53 = 1.57
    in November. With the 15 October session (5000 Wh, 1.50): October 2 sessions,
    6.750 kWh, 2.03; November 1 session, 5.251 kWh, 1.57."""
    person = ledger.add_person("Alex Driver", ha_user_id="u1")
    ledger.add_rate(
        person_id=person.id, vehicle_id=None, valid_from=datetime(2026, 1, 1).date(),
        valid_to=None, direction="reimburse", basis="tariff_cost", price_per_kwh=None,
        currency="EUR",
    )  # fmt: skip
    ledger.append_sessions(
        [
            make_record(1, user_id="u1", started=datetime(2026, 10, 15, 16, tzinfo=UTC),
                        energy_wh=5_000, cost_total="1.50"),
            make_record(2, user_id="u1", started=datetime(2026, 10, 31, 22, tzinfo=UTC),
                        minutes=240, energy_wh=7_001, cost_total="2.10"),
        ]
    )  # fmt: skip
    now = datetime(2026, 11, 15, 12, tzinfo=BERLIN)
    expected = {
        "2026-10": (2, 6.750, 2.03),
        "2026-11": (1, 5.251, 1.57),
    }
    for scoped, person_id in ((False, None), (True, person.id)):
        data = dashboard_data.build(ledger, person_id, scoped, BERLIN, now)
        bars = {
            month: (count, kwh, cost)
            for month, count, kwh, cost in zip(
                data.months, data.sessions, data.energy_kwh, data.cost, strict=True
            )
            if count
        }
        assert bars.keys() == expected.keys()
        for month, (count, kwh, cost) in expected.items():
            assert bars[month][0] == count
            assert bars[month][1] == pytest.approx(kwh)
            assert bars[month][2] == pytest.approx(cost)
        # This month's reimbursement tile comes from November's statement: the part only.
        assert data.reimbursement == Decimal("1.57")
        assert data.reimbursed_sessions == 1
    # Nobody's session over the same midnight is this month's unattributed one too.
    ledger.append_sessions(
        [make_record(3, started=datetime(2026, 10, 31, 22, 30, tzinfo=UTC), minutes=120)]
    )
    assert dashboard_data.build(ledger, None, False, BERLIN, now).unattributed == 1
    # ... and the statements say the same per month.
    for month, (count, kwh, cost) in expected.items():
        statement = ledger.statement(person.id, month)
        assert statement.session_count == count
        assert statement.energy_wh == Decimal(str(kwh)) * 1000
        assert statement.amount == Decimal(str(cost))


def test_adjustments_count_on_the_dashboard_as_in_the_statements(ledger: Ledger) -> None:
    """Bea's November 2026 (Berlin), tariff cost reimbursed, with every kind of adjustment
    that changes a figure. By hand:

    - 4000 Wh, 1.20: counts as recorded;
    - 6000 Wh, 1.80: excluded -> nothing;
    - 5000 Wh, 1.50: energy corrected to 4500 Wh -> 4500 Wh, 1.50 (the tariff cost paid is
      the recorded one);
    - 3000 Wh, 0.90: excluded, then included again -> counts;
    - her manual session of 2000 Wh, 0.70, awaiting approval -> nothing; another one of
      1000 Wh, 0.40, approved -> counts;
    - 31 Oct 22:00Z -> 1 Nov 02:00Z (Berlin midnight one hour in), 7001 Wh, 2.10, energy
      corrected to 8000 Wh: one hour of four in October, 8000 / 4 = 2000 Wh there and
      6000 Wh in November; cost by time, 0.525 -> 0.53 in October, 2.10 - 0.53 = 1.57.

    November: 5 sessions, 4000 + 4500 + 3000 + 1000 + 6000 = 18500 Wh,
    1.20 + 1.50 + 0.90 + 0.40 + 1.57 = 5.57. October: 1 session, 2000 Wh, 0.53.
    """
    bea = ledger.add_person("Bea", ha_user_id="bea-user")
    ledger.add_rate(
        person_id=bea.id, vehicle_id=None, valid_from=datetime(2026, 1, 1).date(),
        valid_to=None, direction="reimburse", basis="tariff_cost", price_per_kwh=None,
        currency="EUR",
    )  # fmt: skip
    day = datetime(2026, 11, 3, 17, tzinfo=UTC)
    plain, excluded, corrected, back = (
        make_record(seq, user_id="bea-user", started=day + timedelta(days=seq),
                    energy_wh=wh, cost_total=cost)
        for seq, wh, cost in ((1, 4_000, "1.20"), (2, 6_000, "1.80"), (3, 5_000, "1.50"),
                              (4, 3_000, "0.90"))
    )  # fmt: skip
    crossing = make_record(
        5, user_id="bea-user", started=datetime(2026, 10, 31, 22, tzinfo=UTC), minutes=240,
        energy_wh=7_001, cost_total="2.10",
    )  # fmt: skip
    ledger.append_sessions([plain, excluded, corrected, back, crossing])
    manual = {
        "author": "bea-user", "currency": "EUR",
        "time_zone": "Europe/Berlin", "person_id": bea.id, "vehicle_id": None,
        "location": "Motorway", "pending_approval": True,
    }  # fmt: skip
    ledger.add_manual_session(
        started_at=day + timedelta(days=8), ended_at=day + timedelta(days=8, hours=1),
        energy_wh=Decimal(2000),
        cost_total=Decimal("0.70"), **manual,  # type: ignore[arg-type]
    )  # fmt: skip
    approved = ledger.add_manual_session(
        started_at=day + timedelta(days=9), ended_at=day + timedelta(days=9, hours=1),
        energy_wh=Decimal(1000),
        cost_total=Decimal("0.40"), **manual,  # type: ignore[arg-type]
    )  # fmt: skip
    adjust = ledger.add_adjustment
    adjust(excluded["id"], "exclude", reason="private trip", author="admin")
    adjust(corrected["id"], "correct_energy", reason="meter", author="admin",
           data={"energy_wh": "4500"})  # fmt: skip
    adjust(back["id"], "exclude", reason="unsure", author="admin")
    adjust(back["id"], "include", reason="was a business trip", author="admin")
    adjust(crossing["id"], "correct_energy", reason="meter", author="admin",
           data={"energy_wh": "8000"})  # fmt: skip
    adjust(approved, "include", reason="approved", author="admin")

    by_hand = {"2026-10": (1, Decimal(2000), Decimal("0.53")),
               "2026-11": (5, Decimal(18500), Decimal("5.57"))}  # fmt: skip
    # The statements, the reference the dashboard must agree with, say the same.
    for month, (count, wh, amount) in by_hand.items():
        statement = ledger.statement(bea.id, month)
        assert (statement.session_count, statement.energy_wh, statement.amount) == (
            count, wh, amount,
        )  # fmt: skip
    now = datetime(2026, 11, 20, 12, tzinfo=BERLIN)
    for scoped, person_id in ((False, None), (True, bea.id)):
        data = dashboard_data.build(ledger, person_id, scoped, BERLIN, now)
        bars = {
            month: (count, kwh, cost)
            for month, count, kwh, cost in zip(
                data.months, data.sessions, data.energy_kwh, data.cost, strict=True
            )
            if count
        }
        assert bars.keys() == by_hand.keys()
        for month, (count, wh, amount) in by_hand.items():
            assert bars[month][0] == count
            assert bars[month][1] == pytest.approx(float(wh) / 1000)
            assert bars[month][2] == pytest.approx(float(amount))
        assert (data.month_sessions, data.reimbursed_sessions) == (5, 5)
        assert data.month_energy_kwh == pytest.approx(18.5)
        assert data.month_cost == pytest.approx(5.57)
        assert data.reimbursement == Decimal("5.57")
