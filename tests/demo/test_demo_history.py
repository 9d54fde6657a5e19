"""The demo's year of history: what the simulators measured, priced at the demo's tariff,
written once into Home Assistant's session history, and ingested by the real ledger.

Expected prices are the demo's tariff written out here (0.35 EUR/kWh 06:00-22:00 Berlin
time, 0.22 EUR/kWh at night); the meter's continuity and the energies are checked against
the records' own registers, not against the generator's arithmetic.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_charging_monitor.ledger_link import contract
from ev_charging_ledger.storage import Ledger
from scripts.lib import demo_history

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 12, 1)


def _price(moment: str) -> Decimal:
    hour = datetime.fromisoformat(moment).astimezone(BERLIN).hour
    return Decimal("0.35") if 6 <= hour < 22 else Decimal("0.22")


@pytest.fixture(scope="module")
def year() -> list[dict[str, object]]:
    return demo_history.year_of_sessions(TODAY, 1)


def test_a_year_for_two_people_and_two_cars(year: list[dict[str, object]]) -> None:
    assert all(contract.problems(record) == [] for record in year)
    assert [r["seq"] for r in year] == list(range(1, len(year) + 1))
    months = Counter(str(r["started_at"])[:7] for r in year)
    assert len(months) >= 12  # every month of the year has sessions
    cards = Counter(r["authorization"]["tag_hash"] for r in year)  # type: ignore[index]
    assert cards[demo_history.SAM.card] > 80
    assert cards[demo_history.ALEX.card] > 50
    assert 0 < cards[None] < 20  # a few guests without a card
    assert len({r["id"] for r in year}) == len(year)


def test_the_meter_counts_every_session_and_leads_to_the_live_meter(
    year: list[dict[str, object]],
) -> None:
    for record in year:
        energy = Decimal(str(record["energy_wh"]))
        assert energy == Decimal(str(record["meter_end_wh"])) - Decimal(
            str(record["meter_start_wh"])
        )
        assert 0 < energy <= 24_000
        assert record["started_at"] < record["ended_at"]
    for earlier, later in itertools.pairwise(year):
        assert earlier["meter_end_wh"] == later["meter_start_wh"]
        assert earlier["ended_at"] <= later["started_at"]  # one wallbox: no overlap
    # The live simulated SDM630 starts at 5432.1 kWh.
    assert Decimal(str(year[-1]["meter_end_wh"])) == Decimal("5432100")


def test_costs_at_the_demo_tariff(year: list[dict[str, object]]) -> None:
    for record in year:
        cost = record["cost"]
        assert isinstance(cost, dict)
        assert cost["currency"] == "EUR"
        expected = sum(
            (Decimal(i["energy_wh"]) / 1000 * _price(i["start"]) for i in cost["intervals"]),
            Decimal(0),
        ).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(cost["total"]) == expected
        assert sum(Decimal(i["energy_wh"]) for i in cost["intervals"]) == Decimal(
            str(record["energy_wh"])
        )


def test_seeding_home_assistant_happens_once(tmp_path: Path) -> None:
    storage = tmp_path / ".storage"
    live = {"id": "live-session", "seq": 1, "ended_at": "2026-11-30T10:00:00Z"}
    storage.mkdir()
    (storage / demo_history.STORE_KEY).write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 1,
                "key": demo_history.STORE_KEY,
                "data": {"last_seq": 1, "acked_seq": 1, "sessions": [live]},
            }
        )
    )
    added = demo_history.seed_home_assistant(storage, TODAY)
    data = json.loads((storage / demo_history.STORE_KEY).read_text())["data"]
    assert added == len(data["sessions"]) - 1 > 150
    assert data["sessions"][0] == live  # what was there keeps its seq
    assert [s["seq"] for s in data["sessions"]] == list(range(1, added + 2))
    assert data["last_seq"] == added + 1
    assert data["acked_seq"] == 1
    before = (storage / demo_history.STORE_KEY).read_text()
    assert demo_history.seed_home_assistant(storage, TODAY) == 0
    assert (storage / demo_history.STORE_KEY).read_text() == before


def test_the_ledger_knows_who_charged(tmp_path: Path, year: list[dict[str, object]]) -> None:
    users = {None: "owner-user-id", "alex": "alex-user-id"}
    demo_history.set_up_ledger(tmp_path, users, 2025)
    demo_history.set_up_ledger(tmp_path, users, 2025)  # a restart adds nobody twice
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        people = {p.name: p for p in ledger.people()}
        assert set(people) == {"Sam Berger", "Alex Novak"}
        assert people["Alex Novak"].ha_user_id == "alex-user-id"
        assert len(ledger.vehicles()) == 2
        result = ledger.append_sessions(year)
        assert result.stored == len(year)
        sam = people["Sam Berger"].id
        mine = [
            r
            for r in year
            if r["authorization"]["tag_hash"] == demo_history.SAM.card  # type: ignore[index]
        ]

        def month(moment: object) -> str:
            return f"{datetime.fromisoformat(str(moment)).astimezone(BERLIN):%Y-%m}"

        # A month none of Sam's overnight sessions runs into or out of (a session across a
        # month boundary is split between two statements).
        chosen = next(m for m in sorted({month(r["started_at"]) for r in mine})
                      if not any(month(r["started_at"]) != month(r["ended_at"])
                                 and m in (month(r["started_at"]), month(r["ended_at"]))
                                 for r in mine))  # fmt: skip
        inside = [r for r in mine if month(r["started_at"]) == chosen]
        statement = ledger.statement(sam, chosen)
        assert statement.session_count == len(inside) > 0
        # The employer's price: 0.30 EUR/kWh, each session rounded to the cent.
        assert statement.amount == sum(
            (
                (Decimal(str(r["energy_wh"])) / 1000 * Decimal("0.30")).quantize(
                    Decimal("0.01"), ROUND_HALF_UP
                )
                for r in inside
            ),
            Decimal(0),
        )
