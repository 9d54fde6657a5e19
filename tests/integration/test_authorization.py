"""Authorization against the simulated Vestel in a real Home Assistant: held, released, denied.

Every scenario checks the simulator itself: the current it offers the car (0 while
locked) and the current that really flows, at every poll.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
    EVENT_AUTHORIZATION,
    AuthorizationManager,
)
from custom_components.ev_charging_monitor.authorization.model import (
    Credential,
    CredentialKind,
    Person,
)
from custom_components.ev_charging_monitor.authorization.model import (
    Vehicle as VehicleRecord,
)
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.vehicle import Vehicle

from .clocks import poll
from .conftest import AddDevice

CARD = "04A2B3C4D5"
OTHER_CARD = "DEADBEEF01"
PERSON = "sensor.vestel_evc04_authorized_person"
STATUS = "sensor.vestel_evc04_authorization"
AUTHORIZE = "button.vestel_evc04_authorize"


@pytest.fixture
async def wallbox(clock: SimClock) -> AsyncIterator[VestelEVC04]:
    """A Vestel without watchdog: these tests are about authorization, not keep-alive."""
    simulator = VestelEVC04(clock)
    simulator.charger.watchdog_timeout = None
    await simulator.start()
    yield simulator
    await simulator.stop()


class Scenario:
    """The simulator, both clocks and what Home Assistant said, checked at every poll."""

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
        self.events: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.offered: list[float] = []
        self.flowing: list[float] = []
        hass.bus.async_listen(EVENT_AUTHORIZATION, lambda e: self.events.append(dict(e.data)))
        hass.bus.async_listen(EVENT_SESSION_ENDED, lambda e: self.records.append(dict(e.data)))

    @property
    def manager(self) -> AuthorizationManager:
        return self.hass.data[AUTHORIZATION]

    def sample(self) -> None:
        """What the simulated charger does right now."""
        charger = self.wallbox.charger
        self.offered.append(charger.offered_current())
        self.flowing.append(max(charger.phases().current))

    async def poll(self, seconds: float = 6) -> None:
        self.sample()
        await poll(self.hass, self.clock, seconds, self.freezer)
        self.sample()

    def plug(self) -> None:
        self.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
        self.sample()

    def swipe(self, uid: str) -> None:
        self.wallbox.charger.swipe(uid)
        self.sample()

    def unplug(self) -> None:
        self.wallbox.charger.unplug()

    @property
    def never_flowed(self) -> bool:
        return not any(self.offered) and not any(self.flowing)


@pytest.fixture
def scenario(
    hass: HomeAssistant, clock: SimClock, freezer: FrozenDateTimeFactory, wallbox: VestelEVC04
) -> Scenario:
    """Both clocks move together."""
    return Scenario(hass, clock, freezer, wallbox)


async def _set_up_authorization(hass: HomeAssistant) -> ConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, data={"role": "authorization"}, unique_id="authorization"
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _add_card(
    manager: AuthorizationManager,
    uid: str = CARD,
    *,
    kind: CredentialKind = CredentialKind.RFID,
    person: str = "Alex",
    **changes: Any,
) -> Credential:
    person_record = next((p for p in manager.data.people.values() if p.name == person), None)
    if person_record is None:
        person_record = Person(id=f"p-{person}", name=person)
        manager.data.people[person_record.id] = person_record
    key = uid if kind is CredentialKind.HA_USER else manager.hash(kind, uid)
    credential = Credential(
        id=f"c-{uid}", kind=kind, key=key, person_id=person_record.id, **changes
    )
    manager.data.credentials[credential.id] = credential
    return credential


@pytest.fixture
async def charger(hass: HomeAssistant, scenario: Scenario, add_device: AddDevice) -> ConfigEntry:
    """Authorization set up (default deny), then the wallbox."""
    await _set_up_authorization(hass)
    entry = await add_device(scenario.wallbox)
    scenario.sample()
    return entry


async def test_unknown_card_never_lets_current_flow(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """A whole plug-in with an unknown card: 0 A offered and drawn at every poll."""
    assert hass.states.get(STATUS).state == "locked"
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    for _ in range(20):
        await scenario.poll(30)
    scenario.unplug()
    await scenario.poll()

    assert scenario.never_flowed, (scenario.offered, scenario.flowing)
    assert [e["result"] for e in scenario.events] == ["invalid"]
    event = scenario.events[0]
    assert event["tag_hash"] == scenario.manager.hash(CredentialKind.RFID, CARD)
    assert event["person"] is None
    assert event["unknown_card_id"] == scenario.manager.data.unknown[0].id
    assert len(scenario.records) == 1
    assert scenario.records[0]["energy_wh"] == "0"
    assert scenario.records[0]["authorization"]["method"] == "none"
    assert hass.states.get(STATUS).state == "locked"


async def test_accepted_card_charges_within_one_poll(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """The poll that reads the card releases the charger; the next one sees charging."""
    _add_card(scenario.manager, vehicle_id=None)
    scenario.manager.data.vehicles["v1"] = VehicleRecord(id="v1", name="ID.4", person_id="p-Alex")
    scenario.plug()
    await scenario.poll()
    assert not any(scenario.offered)
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    await scenario.poll()
    assert hass.states.get("binary_sensor.vestel_evc04_charging").state == "on"
    assert hass.states.get(PERSON).state == "Alex"
    assert hass.states.get(STATUS).state == "authorized"
    for _ in range(10):
        await scenario.poll(60)
    scenario.unplug()
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 0  # locked again

    assert [e["result"] for e in scenario.events] == ["accepted"]
    record = scenario.records[0]
    assert int(record["energy_wh"]) > 0
    auth = record["authorization"]
    assert auth["method"] == "rfid"
    assert auth["person"] == "Alex"
    assert auth["vehicle"] == "ID.4"
    assert auth["tag_hash"] == scenario.manager.hash(CredentialKind.RFID, CARD)
    assert hass.states.get(STATUS).state == "locked"
