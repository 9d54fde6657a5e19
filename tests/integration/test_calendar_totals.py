"""The sessions calendar and each person's totals, in a real Home Assistant.

Sessions are charged on the simulated Vestel under authorization (a person's card), with a
flat price. Every expectation is computed here from the simulator: the session's energy is
the change of the simulated register (0.1 kWh steps) between before plug-in and after
unplug, checked against the energy the simulated car received; its cost is that energy
times the price written in the test, rounded to the cent. No code of the integration
computes an expected value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    CLIENT_ID,
    MockUser,
    async_mock_restore_state_shutdown_restart,
    mock_restore_cache_with_extra_data,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.authorization.manager import AUTHORIZATION
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice, vestel_register
from .test_authorization import _add_card, _set_up_authorization

pytestmark = pytest.mark.no_watchdog

BERLIN = ZoneInfo("Europe/Berlin")
PRICE = Decimal("0.30")
CALENDAR = "calendar.vestel_evc04_charging_sessions"
TOTAL_COST = "sensor.vestel_evc04_total_cost"
ALEX_CARD = "04A2B3C4D5"
BO_CARD = "DEADBEEF01"


def _sensor(person: str, key: str) -> str:
    return f"sensor.{person}_{key}"


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Garage:
    """One wallbox under authorization, both clocks moving together."""

    def __init__(
        self,
        hass: HomeAssistant,
        clock: SimClock,
        freezer: FrozenDateTimeFactory,
        wallbox: VestelEVC04,
    ) -> None:
        self.hass = hass
        self.clock = clock
        self.freezer = freezer
        self.wallbox = wallbox
        self.records: list[dict[str, Any]] = []
        # (person, energy in Wh, cost) of each session, as the simulator measured it.
        self.expected: list[tuple[str, Decimal, Decimal]] = []
        self.entry: ConfigEntry | None = None
        self.auth_entry: ConfigEntry | None = None

        @callback
        def recorded(event: Event) -> None:
            self.records.append(dict(event.data))

        hass.bus.async_listen(EVENT_SESSION_ENDED, recorded)

    async def set_up(self, add_device: AddDevice) -> None:
        self.auth_entry = await _set_up_authorization(self.hass)
        entry = await add_device(self.wallbox)
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, "tariff": {"type": "flat", "price": str(PRICE)}}
        )
        assert await self.hass.config_entries.async_reload(entry.entry_id)
        await self.hass.async_block_till_done()
        self.entry = entry
        manager = self.hass.data[AUTHORIZATION]
        _add_card(manager, ALEX_CARD, person="Alex")
        _add_card(manager, BO_CARD, person="Bo")
        await self.hass.async_block_till_done()

    async def poll(self, seconds: float = 0) -> None:
        await poll(self.hass, self.clock, seconds, self.freezer)

    async def session(self, person: str, card: str, *, minutes: int, step_min: int = 10) -> None:
        """Plug in, swipe, charge for `minutes`, unplug; note what the simulator delivered."""
        charger = self.wallbox.charger
        before = vestel_register(self.wallbox)
        vehicle = Vehicle(max_current=16, phases=3)
        charger.plug(vehicle)
        await self.poll()
        charger.swipe(card)
        for _ in range(minutes // step_min):
            await self.poll(step_min * 60)
        charger.unplug()
        await self.poll()
        energy = vestel_register(self.wallbox) - before
        # The register counts 0.1 kWh steps of what the car received.
        assert abs(Decimal(str(vehicle.delivered)) - energy) < 100, (vehicle.delivered, energy)
        assert energy > 0
        self.expected.append((person, energy, _cents(energy / 1000 * PRICE)))

    def energy_kwh(self, person: str, since: int = 0) -> Decimal:
        return sum((e for p, e, _ in self.expected[since:] if p == person), Decimal(0)) / 1000

    def cost(self, person: str, since: int = 0) -> Decimal:
        return sum((c for p, _, c in self.expected[since:] if p == person), Decimal(0))


@pytest.fixture
async def garage(
    hass: HomeAssistant,
    clock: SimClock,
    freezer: FrozenDateTimeFactory,
    wallbox: VestelEVC04,
    add_device: AddDevice,
) -> Garage:
    """Berlin time, the wallbox with a flat price, Alex's and Bo's cards."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.currency = "EUR"
    freezer.move_to(datetime(2026, 10, 24, 18, 0, tzinfo=BERLIN))
    garage = Garage(hass, clock, freezer, wallbox)
    await garage.set_up(add_device)
    return garage


def _value(hass: HomeAssistant, entity_id: str) -> Decimal:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return Decimal(state.state)


async def test_finished_session_in_the_calendar(
    hass: HomeAssistant,
    garage: Garage,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """The calendar API the frontend uses lists the session with its energy, cost, person."""
    before = datetime.now(UTC)
    assert hass.states.get(CALENDAR).state == "off"
    garage.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await garage.poll()
    assert hass.states.get(CALENDAR).state == "on"  # a car is plugged in
    garage.wallbox.charger.unplug()
    await garage.poll()
    assert hass.states.get(CALENDAR).state == "off"

    await garage.session("Alex", ALEX_CARD, minutes=60)
    assert hass.states.get(CALENDAR).state == "off"
    after = datetime.now(UTC)

    # A token of the frozen clock's time (the fixture's own was issued at the real time).
    refresh = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    client = await hass_client(hass.auth.async_create_access_token(refresh))
    response = await client.get(
        f"/api/calendars/{CALENDAR}",
        params={
            "start": (before - timedelta(hours=1)).isoformat(),
            "end": (after + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status == 200
    events = await response.json()
    assert len(events) == 2  # the unattributed plug-in without energy, then Alex's session
    empty, event = events
    assert empty["summary"] == "Charging 0.000 kWh"
    _person, energy, cost = garage.expected[0]
    kwh = f"{energy / 1000:.3f}"
    record = garage.records[-1]
    assert event["uid"] == record["id"]
    assert event["summary"] == f"Charging {kwh} kWh"
    assert event["description"].splitlines() == [
        f"Energy: {kwh} kWh",
        f"Cost: {cost:.2f} EUR",
        "Person: Alex",
    ]
    assert datetime.fromisoformat(event["start"]["dateTime"]) == datetime.fromisoformat(
        record["started_at"]
    )
    assert datetime.fromisoformat(event["end"]["dateTime"]) == datetime.fromisoformat(
        record["ended_at"]
    )
    # A range after the session shows nothing.
    response = await client.get(
        f"/api/calendars/{CALENDAR}",
        params={
            "start": (after + timedelta(minutes=1)).isoformat(),
            "end": (after + timedelta(days=1)).isoformat(),
        },
    )
    assert await response.json() == []
    # The charger's total cost counts both sessions (the empty one costs 0).
    assert _value(hass, TOTAL_COST) == cost

    # Alex is renamed: their device follows; the totals stay.
    assert garage.auth_entry is not None
    alex = next(s for s in garage.auth_entry.subentries.values() if s.title == "Alex")
    hass.config_entries.async_update_subentry(garage.auth_entry, alex, title="Alexandra")
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "person_p-Alex"), garage.auth_entry.entry_id
    )
    assert device is not None
    assert device.name == "Alexandra"
    assert _value(hass, _sensor("alex", "energy_this_month")) == energy / 1000


async def test_monthly_totals_across_a_dst_night_and_a_month_boundary(
    hass: HomeAssistant, garage: Garage, freezer: FrozenDateTimeFactory
) -> None:
    """Alex's and Bo's months and years equal the sums of their own sessions.

    October 25th 2026 is the night clocks go back in Berlin; a session runs through it.
    The last session starts on October 31st and ends on November 1st: it counts in
    November, and Alex's month starts again from zero at midnight on November 1st.
    """
    # From 02:20 summer time to 02:10 winter time: 50 minutes, the later hour on the clock
    # being the earlier one. The calendar's current event is renewed during it.
    freezer.move_to(datetime(2026, 10, 25, 2, 20, tzinfo=BERLIN))
    await garage.session("Alex", ALEX_CARD, minutes=50)
    dst_session = garage.records[-1]
    assert dst_session["started_at"].startswith("2026-10-25T00:20")
    assert dst_session["ended_at"].startswith("2026-10-25T01:10")
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": datetime(2026, 10, 25, tzinfo=BERLIN),
            "end_date_time": datetime(2026, 10, 26, tzinfo=BERLIN),
        },
        blocking=True,
        return_response=True,
    )
    (event,) = response[CALENDAR]["events"]  # type: ignore[index]
    start = datetime.fromisoformat(event["start"])
    assert start == datetime.fromisoformat(dst_session["started_at"])
    # Home Assistant refuses an event whose local end reads earlier than its start: it is
    # shown until the start's clock time in the repeated hour, one hour and a second on.
    assert datetime.fromisoformat(event["end"]) - start == timedelta(hours=1, seconds=1)
    assert event["summary"] == f"Charging {garage.expected[-1][1] / 1000:.3f} kWh"
    freezer.move_to(datetime(2026, 10, 25, 18, 0, tzinfo=BERLIN))
    await garage.session("Alex", ALEX_CARD, minutes=70)
    freezer.move_to(datetime(2026, 10, 27, 18, 0, tzinfo=BERLIN))
    await garage.session("Bo", BO_CARD, minutes=60)
    freezer.move_to(datetime(2026, 10, 29, 7, 0, tzinfo=BERLIN))
    await garage.session("Alex", ALEX_CARD, minutes=30)

    month = _sensor("alex", "energy_this_month")
    state = hass.states.get(month)
    assert state.attributes["state_class"] == "total"
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["unit_of_measurement"] == "kWh"
    october = datetime(2026, 10, 1, tzinfo=BERLIN)
    assert datetime.fromisoformat(state.attributes["last_reset"]) == october
    assert _value(hass, month) == garage.energy_kwh("Alex")
    assert _value(hass, _sensor("alex", "cost_this_month")) == garage.cost("Alex")
    assert _value(hass, _sensor("bo", "energy_this_month")) == garage.energy_kwh("Bo")
    assert _value(hass, _sensor("bo", "cost_this_year")) == garage.cost("Bo")
    cost_state = hass.states.get(_sensor("alex", "cost_this_month"))
    assert cost_state.attributes["unit_of_measurement"] == "EUR"
    assert cost_state.attributes["device_class"] == "monetary"
    assert cost_state.attributes["unpriced_sessions"] == 0

    # Plugged in on Oct 31st at 23:20, charged past midnight: recorded in November.
    freezer.move_to(datetime(2026, 10, 31, 23, 20, tzinfo=BERLIN))
    october_alex = garage.energy_kwh("Alex")
    november_from = len(garage.expected)
    charger = garage.wallbox.charger
    before = vestel_register(garage.wallbox)
    charger.plug(Vehicle(max_current=16, phases=3))
    await garage.poll()
    charger.swipe(ALEX_CARD)
    for _ in range(4):  # 23:20 -> 00:00:xx
        await garage.poll(600)
    # Midnight passed with the car still charging: the new month starts at zero.
    november = datetime(2026, 11, 1, tzinfo=BERLIN)
    assert datetime.now(UTC) > november
    state = hass.states.get(month)
    assert Decimal(state.state) == 0
    assert datetime.fromisoformat(state.attributes["last_reset"]) == november
    assert _value(hass, _sensor("alex", "energy_this_year")) == october_alex
    for _ in range(3):
        await garage.poll(600)
    charger.unplug()
    await garage.poll()
    energy = vestel_register(garage.wallbox) - before
    garage.expected.append(("Alex", energy, _cents(energy / 1000 * PRICE)))

    assert _value(hass, month) == garage.energy_kwh("Alex", since=november_from)
    assert _value(hass, month) == energy / 1000
    assert _value(hass, _sensor("alex", "cost_this_month")) == garage.cost(
        "Alex", since=november_from
    )
    assert _value(hass, _sensor("alex", "energy_this_year")) == garage.energy_kwh("Alex")
    assert _value(hass, _sensor("alex", "cost_this_year")) == garage.cost("Alex")
    assert _value(hass, _sensor("bo", "energy_this_month")) == 0
    assert _value(hass, _sensor("bo", "energy_this_year")) == garage.energy_kwh("Bo")
    everyone = garage.cost("Alex") + garage.cost("Bo")
    assert _value(hass, TOTAL_COST) == everyone

    # A restart keeps every total: both entries unloaded, the restore data written to
    # storage and read back as after a restart, the entries set up again.
    shown = {
        entity_id: hass.states.get(entity_id).state
        for entity_id in hass.states.async_entity_ids("sensor")
        if "this_" in entity_id or entity_id == TOTAL_COST
    }
    assert len(shown) == 9
    assert garage.auth_entry is not None
    assert garage.entry is not None
    for entry in (garage.entry, garage.auth_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(month).state == "unavailable"
    await async_mock_restore_state_shutdown_restart(hass)
    for entry in (garage.auth_entry, garage.entry):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert {entity_id: hass.states.get(entity_id).state for entity_id in shown} == shown

    # The year ends too: on January 1st both of Alex's totals start again.
    freezer.move_to(datetime(2026, 12, 31, 23, 59, 50, tzinfo=BERLIN))
    await garage.poll(20)
    assert _value(hass, _sensor("alex", "energy_this_year")) == 0
    assert _value(hass, _sensor("alex", "energy_this_month")) == 0
    state = hass.states.get(_sensor("alex", "energy_this_year"))
    assert datetime.fromisoformat(state.attributes["last_reset"]) == datetime(
        2027, 1, 1, tzinfo=BERLIN
    )
    assert _value(hass, TOTAL_COST) == everyone  # never resets


def _stored(seq: int, person: str | None, ended: str, energy: str, cost: Any) -> dict[str, Any]:
    """A history record as an earlier run of the integration left it."""
    return {
        "schema": 1,
        "id": f"stored-{seq}",
        "seq": seq,
        "charger": {"serial": "VES2024000123", "name": "Vestel EVC04"},
        "started_at": ended.replace("T09", "T07").replace("T22:30", "T21:30"),
        "ended_at": ended,
        "energy_wh": energy,
        "authorization": {"method": "rfid", "person": person, "person_id": f"p-{person}"},
        "cost": cost,
        "flags": [],
    }


def _eur(total: str) -> dict[str, str]:
    return {"currency": "EUR", "total": total}


async def test_totals_after_a_crash_count_each_session_once(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    wallbox: VestelEVC04,
    add_device: AddDevice,
) -> None:
    """Saved totals older than the history (killed before they were written), one
    unreadable, one ahead of a replaced history, and garbage in the history.

    Each session is counted once, garbage is skipped (and a cost without price is
    counted as unpriced), and the calendar lists the readable sessions.
    """
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.currency = "EUR"
    freezer.move_to(datetime(2026, 11, 6, 12, 0, tzinfo=BERLIN))
    garbage = _stored(3, "Alex", "2026-11-05T09:00:00Z", "NaN", "free")
    other_charger = _stored(4, "Bo", "2026-11-05T09:00:00Z", "1000", _eur("0.30"))
    other_charger["charger"] = {"serial": "OTHER", "name": "Other"}
    records = [
        _stored(1, "Alex", "2026-11-03T09:00:00Z", "5000", _eur("1.50")),
        _stored(2, "Alex", "2026-11-04T09:00:00Z", "7250", _eur("2.18")),
        garbage,
        other_charger,
        # 23:30 on October 31st in Berlin: last month, this year.
        _stored(5, "Alex", "2026-10-31T22:30:00Z", "2000", _eur("0.60")),
        # When it ended cannot be read: it belongs to no period.
        _stored(6, "Alex", "yesterday", "9999", _eur("3.00")),
    ]
    hass_storage["ev_charging_monitor.sessions"] = {
        "version": 1,
        "minor_version": 1,
        "key": "ev_charging_monitor.sessions",
        "data": {"last_seq": 6, "acked_seq": 0, "sessions": records},
    }
    november = datetime(2026, 11, 1, tzinfo=BERLIN).isoformat()

    def saved(entity_id: str, value: str, total: dict[str, Any]) -> tuple[State, dict[str, Any]]:
        return State(entity_id, value), {"native_value": value, "total": total}

    mock_restore_cache_with_extra_data(
        hass,
        [
            # Saved after session 1 only.
            saved(
                _sensor("alex", "energy_this_month"),
                "5",
                {"period": "month", "start": november, "value": "5", "seq": 1},
            ),
            saved(_sensor("alex", "energy_this_year"), "99", {"period": "year", "value": "NaN"}),
            # Ahead of the history (its store was replaced by an older copy).
            saved(
                _sensor("alex", "cost_this_month"),
                "1.50",
                {"period": "month", "start": november, "value": "1.50", "seq": 99},
            ),
        ],
    )
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION], ALEX_CARD, person="Alex")
    await add_device(wallbox)
    await hass.async_block_till_done()

    # 5 kWh restored + session 2 (7.25 kWh); session 5 ended in October.
    assert _value(hass, _sensor("alex", "energy_this_month")) == Decimal("12.25")
    # Counted anew from the history: sessions 1, 2 and 5.
    assert _value(hass, _sensor("alex", "energy_this_year")) == Decimal("14.25")
    # Kept as saved: nothing the history holds is after it.
    assert _value(hass, _sensor("alex", "cost_this_month")) == Decimal("1.50")
    assert _value(hass, _sensor("alex", "cost_this_year")) == Decimal("4.28")
    assert hass.states.get(_sensor("alex", "cost_this_year")).attributes["unpriced_sessions"] == 1
    # This charger's sessions 1, 2, 3 (unpriced) and 5; 4 was another charger's.
    assert _value(hass, TOTAL_COST) == Decimal("4.28")
    assert hass.states.get(TOTAL_COST).attributes["unpriced_sessions"] == 1

    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": datetime(2026, 10, 25, tzinfo=BERLIN),
            "end_date_time": datetime(2026, 11, 10, tzinfo=BERLIN),
        },
        blocking=True,
        return_response=True,
    )
    events = response[CALENDAR]["events"]  # type: ignore[index]
    assert [event["summary"] for event in events] == [
        "Charging 2.000 kWh",
        "Charging 5.000 kWh",
        "Charging 7.250 kWh",
    ]
    assert events[2]["description"] == "Energy: 7.250 kWh\nCost: 2.18 EUR\nPerson: Alex"

    # A new session is counted on top (the history continues after seq 6).
    await hass.data[HISTORY].async_add(
        _stored(0, "Alex", "2026-11-06T10:00:00Z", "1250", _eur("0.38"))
    )
    await hass.async_block_till_done()
    assert _value(hass, _sensor("alex", "energy_this_month")) == Decimal("13.5")
    assert _value(hass, _sensor("alex", "cost_this_month")) == Decimal("1.88")
    assert _value(hass, TOTAL_COST) == Decimal("4.66")
    # One too large for a websocket message is announced as a stand-in; it still counts.
    oversized = _stored(0, "Alex", "2026-11-06T10:30:00Z", "500", _eur("0.15"))
    oversized["signed_meter_values"] = [{"format": "OCMF", "data": "x" * 1_100_000}]
    await hass.data[HISTORY].async_add(oversized)
    await hass.async_block_till_done()
    assert _value(hass, _sensor("alex", "energy_this_month")) == Decimal("14.0")
    assert _value(hass, TOTAL_COST) == Decimal("4.81")
