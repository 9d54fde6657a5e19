"""Authorization against the simulated Vestel in a real Home Assistant: held, released, denied.

Every scenario checks the simulator itself: the current it offers the car (0 while
locked) and the current that really flows, at every poll.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components import persistent_notification
from homeassistant.components.tag import async_scan_tag
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import MATCH_ALL
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser, async_mock_service
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.authorization.manager import (
    AUTHORIZATION,
    EVENT_AUTHORIZATION,
    AuthorizationManager,
)
from custom_components.ev_charging_monitor.authorization.model import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Person,
    new_id,
)
from custom_components.ev_charging_monitor.authorization.model import (
    Vehicle as VehicleRecord,
)
from custom_components.ev_charging_monitor.authorization.subentries import (
    async_sync,
    authorization_entry,
    card_subentry,
    person_subentry,
    vehicle_subentry,
)
from custom_components.ev_charging_monitor.const import DOMAIN
from custom_components.ev_charging_monitor.ledger_link.websocket_api import HISTORY
from custom_components.ev_charging_monitor.session.manager import EVENT_SESSION_ENDED
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import VestelEVC04
from simulators.devices.webasto_next import WebastoNext
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
        self.auth_entry: ConfigEntry | None = None
        hass.bus.async_listen(
            EVENT_AUTHORIZATION, callback(lambda e: self.events.append(dict(e.data)))
        )
        hass.bus.async_listen(
            EVENT_SESSION_ENDED, callback(lambda e: self.records.append(dict(e.data)))
        )

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
    """Through the config flow, as an administrator would."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    assert "authorization" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "authorization"}
    )
    assert result["step_id"] == "authorization"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


def _add_card(
    manager: AuthorizationManager,
    value: str = CARD,
    *,
    kind: CredentialKind = CredentialKind.RFID,
    person: str = "Alex",
    **changes: Any,
) -> Credential:
    """A card of `person` as the subentry "Add card" would make (and the person's, if new)."""
    hass = manager.hass
    entry = authorization_entry(hass)
    assert entry is not None
    person_record = next((p for p in manager.data.people.values() if p.name == person), None)
    if person_record is None:
        person_record = Person(id=f"p-{person}", name=person)
        hass.config_entries.async_add_subentry(entry, person_subentry(person_record))
    key = value if kind is CredentialKind.HA_USER else manager.hash(kind, value)
    credential = Credential(id=new_id(), kind=kind, key=key, person_id=person_record.id, **changes)
    hass.config_entries.async_add_subentry(entry, card_subentry(credential, person))
    async_sync(hass, entry, manager.data)
    return credential


@pytest.fixture
async def charger(hass: HomeAssistant, scenario: Scenario, add_device: AddDevice) -> ConfigEntry:
    """Authorization set up (default deny), then the wallbox."""
    scenario.auth_entry = await _set_up_authorization(hass)
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
    assert scenario.auth_entry is not None
    hass.config_entries.async_add_subentry(
        scenario.auth_entry,
        vehicle_subentry(VehicleRecord(id="v1", name="ID.4", person_id="p-Alex")),
    )
    await hass.async_block_till_done()
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


@pytest.mark.parametrize(
    ("changes", "result", "reason"),
    [
        ({"status": CredentialStatus.BLOCKED}, "blocked", "blocked"),
        ({"valid_until": "past"}, "expired", "expired"),
        ({"valid_from": "future"}, "expired", "not_yet_valid"),
        ({"chargers": ["another-charger"]}, "blocked", "charger_not_allowed"),
    ],
)
async def test_denied_cards_never_charge(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    changes: dict[str, Any],
    result: str,
    reason: str,
) -> None:
    """Blocked, expired and not-here cards: the right result, and no current at all."""
    now = dt_util.utcnow()
    times = {"past": now - timedelta(minutes=1), "future": now + timedelta(days=1)}
    _add_card(
        scenario.manager,
        **{k: times[v] if isinstance(v, str) and v in times else v for k, v in changes.items()},
    )
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    for _ in range(5):
        await scenario.poll(30)
    assert scenario.never_flowed
    assert [(e["result"], e["reason"], e["person"]) for e in scenario.events] == [
        (result, reason, "Alex")
    ]
    assert scenario.manager.data.unknown == []  # known cards are not "unknown"
    assert hass.states.get(STATUS).state == "locked"


async def test_concurrent_use_denied_at_a_second_charger(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    clock: SimClock,
    add_device: AddDevice,
) -> None:
    """A one-session card charging at one wallbox is refused at another (concurrent)."""
    second = VestelEVC04(clock, serial="VES2024000999")
    second.charger.watchdog_timeout = None
    await second.start()
    try:
        await add_device(second)
        _add_card(scenario.manager, single_session=True)
        scenario.plug()
        second.charger.plug(Vehicle(max_current=16, phases=3))
        await scenario.poll()
        scenario.swipe(CARD)
        await scenario.poll()
        second.charger.swipe(CARD)
        for _ in range(3):
            await scenario.poll(30)
            assert second.charger.offered_current() == 0
        assert scenario.wallbox.charger.offered_current() == 32
        assert [e["result"] for e in scenario.events] == ["accepted", "concurrent"]
        # Unplugged at the first charger, the card may start at the second.
        scenario.unplug()
        second.charger.unplug()
        await scenario.poll()
        second.charger.plug(Vehicle(max_current=16, phases=3))
        await scenario.poll()
        second.charger.swipe(CARD)
        await scenario.poll()
        assert second.charger.offered_current() == 32
        assert scenario.events[-1]["result"] == "accepted"
    finally:
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.unique_id == "VES2024000999":
                await hass.config_entries.async_unload(entry.entry_id)
        await second.stop()


async def test_nfc_tag_authorises_and_is_attributed(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """A tag scanned with the companion app while a vehicle waits; unknown tags are held."""
    assert await async_setup_component(hass, "tag", {})
    _add_card(scenario.manager, "kitchen-tag", kind=CredentialKind.NFC_TAG, person="Robin")
    await async_scan_tag(hass, "kitchen-tag", device_id=None)  # no vehicle: not for us
    await hass.async_block_till_done()
    assert scenario.events == []
    scenario.plug()
    await scenario.poll()
    await async_scan_tag(hass, "some-other-tag", device_id=None)
    await hass.async_block_till_done()
    await scenario.poll()
    assert scenario.never_flowed
    assert scenario.events[-1]["result"] == "invalid"
    assert scenario.events[-1]["method"] == "nfc_tag"
    await async_scan_tag(hass, "kitchen-tag", device_id=None)
    await hass.async_block_till_done()
    assert scenario.wallbox.charger.offered_current() == 32
    await scenario.poll(60)
    assert hass.states.get(PERSON).state == "Robin"
    scenario.unplug()
    await scenario.poll()
    auth = scenario.records[0]["authorization"]
    assert auth["method"] == "nfc_tag"
    assert auth["person"] == "Robin"
    assert auth["tag_hash"] == scenario.manager.hash(CredentialKind.NFC_TAG, "kitchen-tag")


async def test_user_button_authorises_and_is_attributed(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """The pressing user's credential decides; a user without one is refused."""
    guest = await hass.auth.async_create_user("Guest", group_ids=["system-users"])
    _add_card(scenario.manager, hass_admin_user.id, kind=CredentialKind.HA_USER, person="Kim")
    with pytest.raises(ServiceValidationError):  # no vehicle yet
        await _press(hass, AUTHORIZE, hass_admin_user)
    scenario.plug()
    await scenario.poll()
    with pytest.raises(ServiceValidationError) as denied:
        await _press(hass, AUTHORIZE, guest)
    assert denied.value.translation_key == "denied_unknown"
    assert scenario.wallbox.charger.offered_current() == 0
    # The charging switch cannot open the lock either.
    with pytest.raises(ServiceValidationError) as locked:
        await hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": "switch.vestel_evc04_charging_enabled"},
            blocking=True,
        )
    assert locked.value.translation_key == "authorization_required"
    await scenario.poll()
    assert scenario.never_flowed
    await _press(hass, AUTHORIZE, hass_admin_user)
    assert scenario.wallbox.charger.offered_current() == 32
    await scenario.poll(60)
    assert hass.states.get(PERSON).state == "Kim"
    assert hass.states.get(PERSON).attributes["method"] == "ha_user"
    await _press(hass, "button.vestel_evc04_deauthorize", hass_admin_user)
    assert scenario.wallbox.charger.offered_current() == 0
    assert hass.states.get(STATUS).state == "locked"
    scenario.unplug()
    await scenario.poll()
    auth = scenario.records[0]["authorization"]
    assert auth["method"] == "ha_user"
    assert auth["user_id"] == hass_admin_user.id
    assert auth["user_name"] == hass_admin_user.name
    assert auth["person"] == "Kim"
    assert [e["result"] for e in scenario.events] == ["invalid", "accepted"]


async def _press(hass: HomeAssistant, entity_id: str, user: User) -> None:
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": entity_id},
        blocking=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()


async def _restart(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Unload, read the authorization Store afresh as a new process would, set up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_restart_while_locked_stays_locked(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """Locked before, locked after: even if the charger was opened while we were away."""
    scenario.plug()
    await scenario.poll()
    assert hass.states.get(STATUS).state == "locked"
    assert await hass.config_entries.async_unload(charger.entry_id)
    scenario.wallbox.charger.set_current_limit(32)  # someone opened it during the restart
    hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(hass)
    assert await hass.config_entries.async_setup(charger.entry_id)
    await hass.async_block_till_done()
    scenario.offered.clear()
    scenario.flowing.clear()
    scenario.sample()  # the first poll of the new setup held it again
    for _ in range(5):
        await scenario.poll(30)
    assert scenario.never_flowed
    assert hass.states.get(STATUS).state == "locked"


async def test_restart_during_authorised_session(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """Authorised before the restart: still charging and attributed after it."""
    _add_card(scenario.manager)
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    await scenario.poll(60)
    await _restart(hass, charger)
    for _ in range(3):
        await scenario.poll(60)
        assert scenario.wallbox.charger.offered_current() == 32
    assert hass.states.get(PERSON).state == "Alex"
    assert hass.states.get(STATUS).state == "authorized"
    scenario.unplug()
    await scenario.poll()
    assert len(scenario.records) == 1
    assert scenario.records[0]["authorization"]["person"] == "Alex"
    assert [e["result"] for e in scenario.events] == ["accepted"]  # not re-evaluated


async def test_allow_once_from_the_notification(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry, hass_admin_user: MockUser
) -> None:
    """The notification names the card id; allowing it once charges this plug-in only."""
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    card_id = scenario.events[-1]["unknown_card_id"]
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    assert any(card_id in n["message"] for n in notifications.values())
    await hass.services.async_call(
        DOMAIN,
        "resolve_unknown_card",
        {"card_id": card_id, "action": "allow_once"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert scenario.wallbox.charger.offered_current() == 32
    assert not any(card_id in n["message"] for n in notifications.values())
    await scenario.poll(60)
    scenario.unplug()
    await scenario.poll()
    auth = scenario.records[0]["authorization"]
    assert auth["method"] == "rfid"
    assert auth["person"] is None
    # Next plug-in: the card is still unknown.
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 0
    assert scenario.events[-1]["result"] == "invalid"


async def test_phone_notification_buttons(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """The companion app gets allow / add / ignore buttons; pressing one resolves the card.

    The companion app cannot run here: its notify action is a recorded stand-in, and a
    button press is the event the app fires.
    """
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    scenario.manager.data.settings.notify_service = "notify.mobile_app_phone"
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    card_id = scenario.events[-1]["unknown_card_id"]
    assert len(calls) == 1
    actions = calls[0].data["data"]["actions"]
    assert [a["action"] for a in actions] == [
        f"EVCM_CARD_allow_once:{card_id}",
        f"EVCM_CARD_add_to_person:{card_id}",
        f"EVCM_CARD_ignore:{card_id}",
    ]
    assert actions[1]["behavior"] == "textInput"
    assert CARD not in json.dumps(calls[0].data)

    # A non-administrator's press changes nothing.
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": actions[1]["action"], "reply_text": "Mallory"},
        context=Context(user_id=hass_read_only_user.id),
    )
    await hass.async_block_till_done()
    assert scenario.wallbox.charger.offered_current() == 0

    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": actions[1]["action"], "reply_text": "Sam"},
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    (person,) = [p for p in scenario.manager.data.people.values() if p.name == "Sam"]
    assert any(c.person_id == person.id for c in scenario.manager.data.credentials.values())
    assert scenario.manager.data.unknown == []


async def test_add_to_person_from_the_options_flow(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """Unknown card -> Configure -> Unknown cards -> add to a new person: charges now and later."""
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    card_id = scenario.events[-1]["unknown_card_id"]
    assert scenario.auth_entry is not None
    result = await _options(hass, scenario.auth_entry, "unknown_cards")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"card": card_id, "action": "add_to_person", "person_name": "Sam"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert scenario.wallbox.charger.offered_current() == 32
    assert scenario.events[-1]["result"] == "accepted"
    assert scenario.events[-1]["person"] == "Sam"
    assert scenario.manager.data.unknown == []
    # The card and the new person are subentries now: listed, editable, removable.
    subentries = {s.subentry_type: s for s in scenario.auth_entry.subentries.values()}
    assert sorted(subentries) == ["card", "person"]
    assert subentries["person"].title == "Sam"
    card = subentries["card"].data
    assert card["key"] == scenario.manager.hash(CredentialKind.RFID, CARD)
    assert card["person_id"] == subentries["person"].data["id"]
    assert card["uid"] is None
    scenario.unplug()
    await scenario.poll()
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32


async def _options(hass: HomeAssistant, entry: ConfigEntry, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    return dict(result)


async def _subentry(
    hass: HomeAssistant, entry: ConfigEntry, kind: str, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Add a person, vehicle or card through Home Assistant's subentry flow manager."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": "user"}
    )
    if result["type"] is not FlowResultType.FORM:
        return dict(result)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    return dict(result)


async def _edit(
    hass: HomeAssistant, entry: ConfigEntry, subentry_id: str, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Edit a subentry (its reconfigure flow)."""
    kind = entry.subentries[subentry_id].subentry_type
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context={"source": "reconfigure", "subentry_id": subentry_id}
    )
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    return dict(result)


def _subentry_id(entry: ConfigEntry, kind: str, title: str) -> str:
    (found,) = [
        s.subentry_id
        for s in entry.subentries.values()
        if s.subentry_type == kind and s.title == title
    ]
    return found


async def test_manage_people_vehicles_and_cards_as_subentries(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """Add person, vehicle, card (with rules), edit, block, delete: as subentries."""
    entry = scenario.auth_entry
    assert entry is not None
    result = await _subentry(hass, entry, "card", {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_people"
    result = await _subentry(hass, entry, "person", {"name": "  "})
    assert result["errors"] == {"name": "name_required"}
    result = await _subentry(hass, entry, "person", {"name": "Alex"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (person,) = scenario.manager.data.people.values()
    assert person.name == "Alex"
    assert entry.subentries[_subentry_id(entry, "person", "Alex")].data["id"] == person.id
    # The person is deleted while the "Add vehicle" dialog is open.
    result = await _subentry(hass, entry, "person", {"name": "Sam"})
    sam = next(p for p in scenario.manager.data.people.values() if p.name == "Sam")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": "user"}
    )
    hass.config_entries.async_remove_subentry(entry, _subentry_id(entry, "person", "Sam"))
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Zoe", "person": sam.id}
    )
    assert result["errors"] == {"person": "person_not_found"}
    result = await _subentry(hass, entry, "vehicle", {"name": "ID.4", "person": person.id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # A card without its UID, then with an impossible period, then right.
    rules = {"person": person.id, "kind": "rfid", "status": "active", "single_session": False}
    result = await _subentry(hass, entry, "card", rules)
    assert result["errors"] == {"value": "value_required"}
    result = await _subentry(
        hass,
        entry,
        "card",
        rules
        | {
            "value": "04:a2:b3:c4:d5",
            "valid_from": "2020-01-01 00:00:00",
            "valid_until": "2019-01-01 00:00:00",
        },
    )
    assert result["errors"] == {"valid_until": "invalid_period"}
    card_input = rules | {
        "value": "04:a2:b3:c4:d5",
        "label": "blue card",
        "chargers": [charger.entry_id],
    }
    result = await _subentry(hass, entry, "card", card_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (credential,) = scenario.manager.data.credentials.values()
    assert credential.uid is None  # hash only
    expected_key = scenario.manager.hash(CredentialKind.RFID, CARD)
    assert credential.key == expected_key
    card_id = _subentry_id(entry, "card", "Alex: blue card")
    assert entry.subentries[card_id].data["key"] == expected_key
    assert "04A2B3C4D5" not in json.dumps(dict(entry.subentries[card_id].data)).upper()
    # The same card again (other spelling) is refused.
    result = await _subentry(hass, entry, "card", rules | {"value": "04a2b3c4d5"})
    assert result["errors"] == {"base": "already_registered"}

    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    assert scenario.events[-1]["vehicle"] == "ID.4"
    assert scenario.events[-1]["person"] == "Alex"
    scenario.unplug()
    await scenario.poll()

    # Edit: rename the person and the vehicle; sessions carry the new names.
    result = await _edit(hass, entry, _subentry_id(entry, "person", "Alex"), {"name": "Alexa"})
    assert result["reason"] == "reconfigure_successful"
    result = await _edit(
        hass, entry, _subentry_id(entry, "vehicle", "ID.4"), {"name": "ID.7", "person": person.id}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[card_id].title == "Alex: blue card"
    # Block the card.
    result = await _edit(
        hass, entry, card_id, {"person": person.id, "status": "blocked", "single_session": False}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[card_id].data["key"] == expected_key  # the card itself stays
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 0
    assert scenario.events[-1]["result"] == "blocked"
    assert scenario.events[-1]["person"] == "Alexa"
    assert scenario.events[-1]["vehicle"] == "ID.7"
    # Unblock: accepted again.
    await _edit(
        hass, entry, card_id, {"person": person.id, "status": "active", "single_session": False}
    )
    scenario.unplug()
    await scenario.poll()
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    scenario.unplug()
    await scenario.poll()

    # Deleting the vehicle keeps the card; deleting the person takes the card along.
    hass.config_entries.async_remove_subentry(entry, _subentry_id(entry, "vehicle", "ID.7"))
    await hass.async_block_till_done()
    assert scenario.manager.data.vehicles == {}
    assert entry.subentries[card_id].data["vehicle_id"] is None
    hass.config_entries.async_remove_subentry(entry, _subentry_id(entry, "person", "Alexa"))
    await hass.async_block_till_done()
    assert scenario.manager.data.people == {}
    assert scenario.manager.data.credentials == {}
    assert dict(entry.subentries) == {}
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 0
    assert scenario.events[-1]["result"] == "invalid"

    # The options keep what is not a list: free chargers are released at the next poll.
    result = await _options(hass, entry, "chargers")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"required_chargers": [], "default_mode": "required"}
    )
    await hass.async_block_till_done()  # the charger reloads for its new mode
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    # Free again: no authorization entities, and the factory failsafe current is back.
    assert hass.states.get(STATUS) is None
    assert hass.states.get(AUTHORIZE) is None
    assert scenario.wallbox.charger.safe_current == 6


async def test_migrates_people_vehicles_and_cards_of_the_old_store(
    hass: HomeAssistant,
    scenario: Scenario,
    add_device: AddDevice,
    hass_storage: dict[str, Any],
) -> None:
    """A Store written before subentries: same ids, hashes and links, and the card works."""
    secret = bytes(range(32))
    # The keyed hash, computed here as the old version did: HMAC-SHA256 of "rfid:<UID>".
    key = hmac.new(secret, f"rfid:{CARD}".encode(), hashlib.sha256).hexdigest()
    old: dict[str, Any] = {"secret": secret.hex(), "settings": {"enabled": True}}
    old["people"] = [{"id": "p-old", "name": "Alex", "user_id": None}]
    old["vehicles"] = [{"id": "v-old", "name": "ID.4", "person_id": "p-old"}]
    old["credentials"] = [
        {
            "id": "c-old",
            "kind": "rfid",
            "key": key,
            "person_id": "p-old",
            "label": "",
            "status": "active",
            "valid_from": None,
            "valid_until": None,
            "single_session": False,
            "chargers": None,
            "vehicle_id": "v-old",
            "uid": None,
        }
    ]
    hass_storage["ev_charging_monitor.authorization"] = {
        "version": 1,
        "minor_version": 1,
        "key": "ev_charging_monitor.authorization",
        "data": old,
    }
    entry = await _set_up_authorization(hass)  # loads the integration, which reads the Store
    await add_device(scenario.wallbox)

    kinds = sorted((s.subentry_type, s.title) for s in entry.subentries.values())
    assert kinds == [("card", "Alex: " + key[:12]), ("person", "Alex"), ("vehicle", "ID.4")]
    card = next(s for s in entry.subentries.values() if s.subentry_type == "card")
    assert dict(card.data) == old["credentials"][0]  # id, hash and links as they were
    assert card.unique_id == f"rfid:{key}"
    vehicle = next(s for s in entry.subentries.values() if s.subentry_type == "vehicle")
    assert vehicle.data["person_id"] == "p-old"
    # Moved, not copied: the Store no longer has them.
    await hass.async_block_till_done()
    stored = hass_storage["ev_charging_monitor.authorization"]["data"]
    assert not {"people", "vehicles", "credentials"} & stored.keys()
    assert scenario.manager.data.legacy is None

    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    assert scenario.events[-1]["result"] == "accepted"
    assert scenario.events[-1]["person"] == "Alex"
    assert scenario.events[-1]["vehicle"] == "ID.4"

    # Setting up again (a restart) imports nothing twice.
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert len(entry.subentries) == 3


@pytest.mark.parametrize("opt_in", [False, True])
async def test_raw_uid_appears_nowhere_without_opt_in(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    opt_in: bool,
) -> None:
    """States, events, logs, diagnostics, notifications, records, storage: no UID."""
    caplog.set_level(logging.DEBUG)
    everything: list[str] = []

    @callback
    def listener(event: Event) -> None:
        everything.append(json.dumps(event.data, default=str))

    hass.bus.async_listen(MATCH_ALL, listener)
    scenario.manager.data.settings.store_raw_uids = opt_in
    _add_card(scenario.manager, CARD, uid=CARD if opt_in else None)
    for uid in (CARD, OTHER_CARD):  # a known card charges, an unknown one is refused
        scenario.plug()
        await scenario.poll()
        scenario.swipe(uid)
        await scenario.poll()
        await scenario.poll(60)
        scenario.unplug()
        await scenario.poll()
    assert len(scenario.records) == 2

    texts = {
        "states": json.dumps([s.as_dict() for s in hass.states.async_all()], default=str),
        "events": "\n".join(everything),
        # Home Assistant's and ours; not the test harness's dump of mocked storage writes.
        "logs": "\n".join(
            f"{record.name} {record.getMessage()}"
            for record in caplog.records
            if not record.name.startswith("pytest_homeassistant_custom_component")
        ),
        "diagnostics": json.dumps(
            [
                await get_diagnostics_for_config_entry(hass, hass_client, entry)
                for entry in (charger, scenario.auth_entry)
            ],
            default=str,
        ),
        "notifications": json.dumps(
            persistent_notification._async_get_or_create_notifications(hass), default=str
        ),
        "records": json.dumps(hass.data[HISTORY].after(0, 100)),
        "storage": json.dumps(hass_storage, default=str),
    }
    for uid in (CARD, OTHER_CARD):
        found = {name for name, text in texts.items() if uid in text}
        if opt_in:
            # Opted in: records, events and stored cards show it; diagnostics and logs never.
            assert "diagnostics" not in found
            assert "logs" not in found
            assert "records" in found if uid == CARD else "notifications" in found
        else:
            assert found == set(), uid


async def test_administrator_authorizes_without_a_credential(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry, hass_admin_user: MockUser
) -> None:
    """The administrator's "Authorize" works though they have no card or user credential."""
    scenario.plug()
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 0
    await _press(hass, AUTHORIZE, hass_admin_user)
    assert scenario.wallbox.charger.offered_current() == 32
    await scenario.poll(60)
    assert hass.states.get(STATUS).state == "authorized"
    assert hass.states.get(PERSON).state == hass_admin_user.name
    assert [(e["result"], e["reason"], e["user_id"]) for e in scenario.events] == [
        ("accepted", "administrator", hass_admin_user.id)
    ]
    scenario.unplug()
    await scenario.poll()
    auth = scenario.records[0]["authorization"]
    assert (auth["method"], auth["user_id"]) == ("ha_user", hass_admin_user.id)


async def test_failsafe_is_zero_while_held_and_given_back(
    hass: HomeAssistant, scenario: Scenario, charger: ConfigEntry
) -> None:
    """Read back from the simulator: 0 A failsafe under authorization, 6 A again when free."""
    await scenario.poll()
    assert scenario.wallbox.charger.safe_current == 0
    ir_registry = ir.async_get(hass)
    assert not [i for i in ir_registry.issues.values() if i.domain == DOMAIN]
    result = await _options(hass, scenario.auth_entry, "chargers")  # type: ignore[arg-type]
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"required_chargers": [], "default_mode": "required"}
    )
    await hass.async_block_till_done()
    await scenario.poll()
    assert scenario.wallbox.charger.safe_current == 6


async def test_repair_where_the_failsafe_cannot_be_set(
    hass: HomeAssistant, clock: SimClock, freezer: FrozenDateTimeFactory, add_device: AddDevice
) -> None:
    """A Webasto Next documents no failsafe current register: required raises the repair.

    Its communication timeout, found at 0 (never fall back), is set to 20 s.
    """
    webasto = WebastoNext(clock, failsafe_current=6, communication_timeout=0)
    await webasto.start()
    try:
        auth_entry = await _set_up_authorization(hass)
        entry = await add_device(webasto)
        key = (DOMAIN, f"authorization_failsafe_open_{entry.entry_id}")
        issue = ir.async_get(hass).issues.get(key)
        assert issue is not None
        assert issue.translation_key == "authorization_failsafe_open"
        assert issue.translation_placeholders == {"name": entry.title, "current": "?"}
        assert webasto.communication_timeout == 20
        # Free: nothing is held, so nothing to warn about.
        result = await _options(hass, auth_entry, "chargers")
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"required_chargers": [], "default_mode": "required"}
        )
        await hass.async_block_till_done()
        await poll(hass, clock, 6, freezer)
        assert ir.async_get(hass).issues.get(key) is None
    finally:
        await webasto.stop()


async def test_set_up_keeps_a_running_session_and_chooses_chargers(
    hass: HomeAssistant,
    scenario: Scenario,
    clock: SimClock,
    add_device: AddDevice,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """Set up over the UI while a car charges: it goes on, as the administrator's session.

    A second charger that is not chosen stays free and gets no authorization entities.
    """
    second = VestelEVC04(clock, serial="VES2024000999")
    second.charger.watchdog_timeout = None
    await second.start()
    try:
        entry = await add_device(scenario.wallbox)
        other = await add_device(second)
        assert hass.states.get(STATUS) is None  # no authorization yet: no entities
        scenario.plug()
        await scenario.poll()
        assert scenario.wallbox.charger.offered_current() == 32
        assert await async_setup_component(hass, "config", {})
        client = await hass_client()
        response = await client.post(
            "/api/config/config_entries/flow",
            json={"handler": DOMAIN, "show_advanced_options": False},
        )
        flow = await response.json()
        response = await client.post(
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={"next_step_id": "authorization"},
        )
        form = await response.json()
        assert form["step_id"] == "authorization"
        response = await client.post(
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={"required_chargers": [entry.entry_id], "default_mode": "required"},
        )
        assert (await response.json())["type"] == "create_entry"
        await hass.async_block_till_done()
        for _ in range(3):
            await scenario.poll()
            assert scenario.wallbox.charger.offered_current() == 32
        assert hass.states.get(STATUS).state == "authorized"
        assert hass.states.get(PERSON).state == hass_admin_user.name
        assert scenario.events[-1]["reason"] == "set_up"
        assert scenario.events[-1]["user_id"] == hass_admin_user.id
        manager = scenario.manager
        assert manager.data.settings.mode_for(other.entry_id).value == "free"
        assert hass.states.get("sensor.vestel_evc04_2_authorization") is None
        assert hass.states.get("button.vestel_evc04_2_authorize") is None
        # The next plug-in at the chosen charger is held.
        scenario.unplug()
        await scenario.poll()
        scenario.plug()
        await scenario.poll()
        assert scenario.wallbox.charger.offered_current() == 0
        assert second.charger.offered_current() == 32
    finally:
        await second.stop()


async def test_vestel_without_failsafe_timeout(
    hass: HomeAssistant, clock: SimClock, freezer: FrozenDateTimeFactory, add_device: AddDevice
) -> None:
    """The Vestel's HR 2002 is read now: at 0 the watchdog repair fires (no authorization);
    under authorization the timeout is set to 20 s and the repair goes away."""
    wallbox = VestelEVC04(clock, failsafe_timeout=0)
    await wallbox.start()
    try:
        entry = await add_device(wallbox)
        key = (DOMAIN, f"watchdog_not_configured_{entry.entry_id}")
        assert ir.async_get(hass).issues.get(key) is not None
        assert hass.states.get(STATUS) is None  # no authorization: no authorization entities
        await _set_up_authorization(hass)
        await hass.async_block_till_done()  # the charger reloads, now under authorization
        await poll(hass, clock, 6, freezer)
        assert (wallbox.failsafe_timeout, wallbox.charger.safe_current) == (20, 0)
        assert ir.async_get(hass).issues.get(key) is None
        assert hass.states.get(STATUS).state == "locked"
    finally:
        await wallbox.stop()


async def test_vestel_firmware_without_failsafe_current_register(
    hass: HomeAssistant, clock: SimClock, freezer: FrozenDateTimeFactory, add_device: AddDevice
) -> None:
    """A box that refuses HR 2000 still polls; under authorization the repair says what an
    outage could let happen (its own failsafe current, unknown to us)."""
    wallbox = VestelEVC04(clock, has_failsafe_current_register=False)
    wallbox.charger.watchdog_timeout = None
    await wallbox.start()
    try:
        await _set_up_authorization(hass)
        entry = await add_device(wallbox)
        await poll(hass, clock, 6, freezer)
        assert hass.states.get("binary_sensor.vestel_evc04_vehicle_connected").state == "off"
        issue = ir.async_get(hass).issues.get(
            (DOMAIN, f"authorization_failsafe_open_{entry.entry_id}")
        )
        assert issue is not None
        assert issue.translation_placeholders == {"name": entry.title, "current": "?"}
        assert wallbox.charger.safe_current == 6  # untouched: the box does not let us
    finally:
        await wallbox.stop()


async def test_unreadable_subentries_are_skipped_not_fatal_and_not_lost(
    hass: HomeAssistant,
    scenario: Scenario,
    charger: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hand-edited, garbled person or card is ignored with a warning; nothing is deleted."""
    entry = scenario.auth_entry
    assert entry is not None
    _add_card(scenario.manager)
    for kind, title, data in [
        ("person", "Broken person", {"id": "p-x"}),  # no name
        ("card", "Broken card", {"id": "c-x", "kind": "bogus", "key": "k", "person_id": "p-x"}),
        # A card of a person that cannot be read: kept, not taken along as if deleted.
        ("card", "Orphan?", {"id": "c-y", "kind": "rfid", "key": "k2", "person_id": "p-x"}),
    ]:
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(data), subentry_type=kind, title=title, unique_id=title
            ),
        )
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert "cannot be read and is ignored" in caplog.text
    assert {s.title for s in entry.subentries.values()} >= {
        "Broken person",
        "Broken card",
        "Orphan?",
    }
    scenario.plug()
    await scenario.poll()
    scenario.swipe(CARD)
    await scenario.poll()
    assert scenario.wallbox.charger.offered_current() == 32
    assert scenario.events[-1]["person"] == "Alex"
