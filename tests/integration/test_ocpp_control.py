"""Controlling OCPP 1.6J chargers from Home Assistant's entities and actions.

The charger is the `ocpp` library client of simulators/ocpp_charger.py on a real loopback
websocket; it applies the charging profiles it accepts to the power its simulated car
draws, starts and stops transactions when asked, restarts, and decides cards from its
local list while it is offline. Nothing is mocked. Expected powers and energies are
worked out by hand in the comments (3 phases at 230 V).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_charging_monitor.authorization.manager import AUTHORIZATION
from custom_components.ev_charging_monitor.authorization.model import (
    CredentialKind,
    CredentialStatus,
)
from custom_components.ev_charging_monitor.authorization.subentries import authorization_entry
from custom_components.ev_charging_monitor.central_system.local_list import LOCAL_LISTS
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.ocpp_charger import GenericOcpp16Charger

from .ocpp_rig import PASSWORD, Rig
from .test_authorization import CARD, OTHER_CARD, _add_card, _set_up_authorization

BLOCKED_CARD = "04BBBBBBBB"


@pytest.fixture
async def generic() -> AsyncIterator[GenericOcpp16Charger]:
    """A generic single-connector wallbox that takes every command (unless forced)."""
    sim = GenericOcpp16Charger("CP-0001", password=PASSWORD, serial="GEN-42")
    yield sim
    await sim.disconnect()


async def _until(rig: Rig, condition: Callable[[], bool]) -> None:
    """Until the simulated charger did what it does after its answer (its own task)."""
    await rig.until(condition, "the charger's reaction to the command")
    # Its confirmation still has to reach it before the tests move the clock.
    await rig.settle()


def _status(rig: Rig) -> str | None:
    """The connector status the central system got last."""
    return rig.hass.data[OCPP_REGISTRY].chargers["CP-0001"].status


async def _set_limit(rig: Rig, amps: float) -> None:
    await rig.service(
        "number",
        "set_value",
        {"entity_id": rig.entity_id("number", "current_limit"), "value": amps},
    )


async def _plug_in_and_start(rig: Rig, sim: GenericOcpp16Charger) -> None:
    """Free charger (no authorization set up): the card is accepted and only recorded."""
    await rig.send(sim.status("Available"))
    await rig.send(sim.meter_values(0))
    await rig.tick(60)
    await rig.send(sim.status("Preparing"))
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.status("Charging"))


async def test_current_limit_is_a_profile_and_the_power_follows(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """The number and the action send SetChargingProfile; the car draws what it allows."""
    await rig.accept(generic)
    await _plug_in_and_start(rig, generic)
    await _set_limit(rig, 10)
    transaction = generic.transaction_id
    assert generic.profiles == {
        1: {
            "purpose": "TxDefaultProfile",
            "connector_id": 0,
            "transaction_id": None,
            "limit": 10.0,
            "unit": "A",
        },
        2: {
            "purpose": "TxProfile",
            "connector_id": 1,
            "transaction_id": transaction,
            "limit": 10.0,
            "unit": "A",
        },
    }
    before = generic.register_wh
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    # By hand: 10 A x 230 V x 3 phases = 6900 W; 600 s of it = 1150 Wh.
    assert rig.state("power") == "6900.0"
    assert generic.register_wh - before == 1150
    assert hass.states.get(rig.entity_id("number", "current_limit")).state == "10.0"
    # The action takes the same way; 16 A would allow 11040 W, more than the car takes.
    await rig.service(DOMAIN, "set_current_limit", {"device_id": rig.device_id(), "current": 16})
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    await rig.service(DOMAIN, "set_current_limit", {"device_id": rig.device_id(), "current": 8})
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    # By hand: 8 A x 230 V x 3 = 5520 W.
    assert rig.state("power") == "5520.0"
    assert generic.current_limit() == 8.0


async def test_pause_and_resume(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """The charging switch pauses with a 0 A profile and resumes with the user's limit."""
    await rig.accept(generic)
    await _plug_in_and_start(rig, generic)
    await _set_limit(rig, 12)
    switch = rig.entity_id("switch", "charging_enabled")
    assert hass.states.get(switch).state == "on"
    await rig.service("switch", "turn_off", {"entity_id": switch})
    assert generic.current_limit() == 0.0
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "0.0"
    assert hass.states.get(switch).state == "off"
    # The number keeps showing the limit it resumes with.
    assert hass.states.get(rig.entity_id("number", "current_limit")).state == "12.0"
    await rig.service("switch", "turn_on", {"entity_id": switch})
    assert generic.current_limit() == 12.0
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    # By hand: 12 A x 230 V x 3 = 8280 W.
    assert rig.state("power") == "8280.0"
    assert hass.states.get(switch).state == "on"
    # The transaction went on all along: paused is not stopped.
    assert generic.transaction_id is not None


async def test_remote_start_for_a_user_and_remote_stop(
    hass: HomeAssistant,
    rig: Rig,
    generic: GenericOcpp16Charger,
    hass_admin_user: MockUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Home Assistant user authorises: the charger is started remotely, held until then.

    The session is theirs; the stop button ends the transaction (RemoteStopTransaction)
    and the record has the simulated meter's exact delta.
    """
    caplog.set_level(logging.INFO)
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, hass_admin_user.id, kind=CredentialKind.HA_USER, person="Kim")
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await rig.send(generic.meter_values(0))
    await rig.tick(60)
    await rig.send(generic.status("Preparing"))
    # Not held by a profile: the charger refuses unknown cards itself (and a 0 A profile
    # would keep the cards of its local list from charging while Home Assistant is away).
    assert generic.current_limit() is None
    before = generic.register_wh
    await rig.service(DOMAIN, "authorize", {"device_id": rig.device_id()}, hass_admin_user)
    await _until(rig, lambda: _status(rig) == "Charging")
    (tag,) = generic.remote_starts
    assert tag.startswith("HA")
    assert len(tag) == 20
    assert generic.transaction_id is not None
    assert manager.data.unknown == []  # the remote start's tag is no unknown card
    for _ in range(2):
        await rig.tick(600)
        await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    await rig.service("button", "press", {"entity_id": rig.entity_id("button", "stop_charging")})
    await _until(rig, lambda: _status(rig) == "Finishing")
    assert generic.transaction_id is None
    assert "RemoteStopTransaction" in generic.commands
    await rig.tick(30)
    await rig.send(generic.status("Available"))
    (record,) = rig.records
    # By hand: 600 s at 11 kW is 1833.3 Wh, which the simulated meter rounds to 1833.
    assert generic.register_wh - before == 2 * 1833
    assert Decimal(record["energy_wh"]) == Decimal(2 * 1833)
    auth = record["authorization"]
    assert auth["method"] == "ha_user"
    assert auth["person"] == "Kim"
    assert auth["user_id"] == hass_admin_user.id
    # Nothing was held, and no line says so.
    assert "is held until a credential is accepted" not in caplog.text
    assert "can neither be disabled nor limited" not in caplog.text
    assert generic.current_limit() is None


async def test_nfc_tag_starts_the_charger_remotely(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """A known NFC tag scanned in Home Assistant while the car waits starts the charger."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, "garage-tag", kind=CredentialKind.NFC_TAG, person="Robin")
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await rig.send(generic.status("Preparing"))
    await manager.async_tag_scanned("garage-tag")
    await _until(rig, lambda: _status(rig) == "Charging")
    assert len(generic.remote_starts) == 1
    assert generic.transaction_id is not None
    await rig.tick(600)
    await rig.send(generic.charge(600, 7_400))
    await rig.send(generic.stop_transaction())
    await rig.send(generic.status("Available"))
    (record,) = rig.records
    assert record["authorization"]["method"] == "nfc_tag"
    assert record["authorization"]["person"] == "Robin"
    # By hand: 600 s at 7.4 kW is 1233.3 Wh, rounded by the meter to 1233.
    assert Decimal(record["energy_wh"]) == Decimal(1233)


async def test_reset_unlock_and_availability(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Restart reconnects and boots (and gets its limit back); unlock; (un)available."""
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await _set_limit(rig, 10)
    # A charger that forgets its profiles when it restarts.
    generic.profiles.clear()
    await rig.service("button", "press", {"entity_id": rig.entity_id("button", "restart")})
    assert generic.resets == ["Soft"]
    await generic.wait_accepted()
    await _until(rig, lambda: generic.current_limit() == 10.0)
    assert generic.online
    await rig.service("button", "press", {"entity_id": rig.entity_id("button", "unlock_connector")})
    assert generic.unlocks == 1
    available = rig.entity_id("switch", "available")
    assert hass.states.get(available).state == "on"
    await rig.service("switch", "turn_off", {"entity_id": available})
    await _until(rig, lambda: hass.states.get(available).state == "off")
    assert rig.state("status") == "no_vehicle"
    await rig.service("switch", "turn_on", {"entity_id": available})
    await _until(rig, lambda: hass.states.get(available).state == "on")
    assert [c for c in generic.commands if c == "ChangeAvailability"] == ["ChangeAvailability"] * 2


async def test_a_refusing_charger_is_a_translated_error(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Rejected, NotSupported (as status and as CallError): clear errors, nothing breaks."""
    await rig.accept(generic)
    await _plug_in_and_start(rig, generic)
    generic.forced["SetChargingProfile"] = "Rejected"
    with pytest.raises(HomeAssistantError) as refused:
        await _set_limit(rig, 10)
    assert refused.value.translation_key == "ocpp_command_refused"
    assert refused.value.translation_placeholders["status"] == "Rejected"
    assert refused.value.translation_placeholders["action"] == "SetChargingProfile"
    assert "refused SetChargingProfile: Rejected" in str(refused.value)
    generic.forced["UnlockConnector"] = "UnlockFailed"
    with pytest.raises(HomeAssistantError) as failed:
        await rig.service(
            "button", "press", {"entity_id": rig.entity_id("button", "unlock_connector")}
        )
    assert failed.value.translation_placeholders["status"] == "UnlockFailed"
    generic.forced["Reset"] = "NotSupported"  # not a Reset status: a CallError
    with pytest.raises(HomeAssistantError) as unsupported:
        await rig.service("button", "press", {"entity_id": rig.entity_id("button", "restart")})
    assert unsupported.value.translation_key == "ocpp_command_not_supported"
    # The charger and its session are unharmed; the next command it takes works.
    generic.forced.clear()
    await _set_limit(rig, 10)
    assert generic.current_limit() == 10.0
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "6900.0"
    assert rig.charger is not None
    assert rig.charger.state is ConfigEntryState.LOADED


async def test_an_offline_charger_is_a_translated_error(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Commands to a charger that is not connected say so, by name."""
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await generic.disconnect()
    await rig.settle()
    with pytest.raises(HomeAssistantError) as offline:
        await rig.service(
            DOMAIN, "set_current_limit", {"device_id": rig.device_id(), "current": 10}
        )
    assert offline.value.translation_key == "ocpp_charger_offline"
    assert "is not connected to the OCPP central system" in str(offline.value)
    with pytest.raises(HomeAssistantError) as stopping:
        await rig.service(DOMAIN, "stop_charging", {"device_id": rig.device_id()})
    assert stopping.value.translation_key == "ocpp_charger_offline"


async def test_local_list_decides_while_home_assistant_is_away(
    hass: HomeAssistant,
    rig: Rig,
    generic: GenericOcpp16Charger,
    hass_client: ClientSessionGenerator,
) -> None:
    """The allow-list's cards reach the charger, which answers them alone when offline.

    Offline it answers as Home Assistant answers online: listed card Accepted, blocked
    card Blocked, a card nobody added Invalid.
    """
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    manager.data.settings.store_raw_uids = True  # the charger needs the UIDs themselves
    _add_card(manager, CARD, uid=CARD)
    _add_card(
        manager, BLOCKED_CARD, person="Sam", uid=BLOCKED_CARD, status=CredentialStatus.BLOCKED
    )
    await rig.accept(generic)
    await _until(rig, lambda: bool(generic.local_list_updates))
    assert generic.local_list == {
        CARD: {"status": "Accepted"},
        BLOCKED_CARD: {"status": "Blocked"},
    }
    assert generic.local_list_updates == [("Full", 1, 2)]
    assert rig.central is not None
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, rig.central)
    assert diagnostics["local_lists"] == {"CP-0001": {"version": 1, "cards": 2}}
    assert CARD not in str(diagnostics)
    await rig.send(generic.status("Preparing"))
    online = [await rig.send(generic.present_card(c)) for c in (CARD, BLOCKED_CARD, OTHER_CARD)]
    await generic.disconnect()
    await rig.settle()
    offline = [await generic.present_card(c) for c in (CARD, BLOCKED_CARD, OTHER_CARD)]
    assert online == offline == ["Accepted", "Blocked", "Invalid"]
    # Reconnected and booted: the same version, nothing sent again.
    await generic.connect(rig.url)
    assert await generic.boot() == "Accepted"
    await _until(rig, lambda: generic.commands.count("GetLocalListVersion") == 2)
    await rig.settle()
    assert generic.local_list_updates == [("Full", 1, 2)]
    # The charger removed: the UIDs it was sent go with it.
    assert rig.charger is not None
    await hass.config_entries.async_remove(rig.charger.entry_id)
    await rig.settle()
    assert hass.data[LOCAL_LISTS].sent == {}


async def test_an_allow_list_change_is_a_differential_update(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """A card added, then one whose validity ended: each a Differential update of one tag."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    manager.data.settings.store_raw_uids = True
    _add_card(manager, CARD, uid=CARD)
    await rig.accept(generic)
    await _until(rig, lambda: bool(generic.local_list_updates))
    assert generic.local_list_updates == [("Full", 1, 1)]
    _add_card(manager, OTHER_CARD, person="Sam", uid=OTHER_CARD)
    await rig.settle()
    assert generic.local_list_updates == [("Full", 1, 1), ("Differential", 2, 1)]
    assert generic.local_list[OTHER_CARD] == {"status": "Accepted"}
    # Sam's card ends tomorrow: the charger learns the date.
    until = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    entry = next(
        s for s in manager_entry(hass).subentries.values() if s.data.get("uid") == OTHER_CARD
    )
    hass.config_entries.async_update_subentry(
        manager_entry(hass), entry, data={**entry.data, "valid_until": until.isoformat()}
    )
    await rig.settle()
    assert generic.local_list_updates[-1] == ("Differential", 3, 1)
    assert generic.local_list[OTHER_CARD] == {
        "status": "Accepted",
        "expiry_date": until.isoformat(),
    }
    # Someone else changed the charger's list meanwhile: its version is not ours, the
    # difference is refused (VersionMismatch) and the whole list is sent instead.
    generic.local_list_version = 7
    generic.local_list.pop(CARD)
    _add_card(manager, BLOCKED_CARD, person="Kai", uid=BLOCKED_CARD)
    await rig.settle()
    assert generic.local_list_updates[-1] == ("Full", 5, 3)
    assert set(generic.local_list) == {CARD, OTHER_CARD, BLOCKED_CARD}
    # Offline, past that date, the charger refuses it as Home Assistant would.
    await generic.disconnect()
    generic.at = until
    assert await generic.present_card(OTHER_CARD) == "Expired"
    assert await generic.present_card(CARD) == "Accepted"


def manager_entry(hass: HomeAssistant) -> ConfigEntry:
    """The Authorization entry, whose subentries are the allow-list."""
    entry = authorization_entry(hass)
    assert entry is not None
    return entry


async def test_a_charger_without_local_list_or_profiles_is_told_once(
    hass: HomeAssistant,
    rig: Rig,
    generic: GenericOcpp16Charger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No local list, no profiles: logged once, no error, no false "held", no repair.

    The charger still refuses unknown cards itself at Authorize.
    """
    caplog.set_level(logging.INFO)
    generic.forced["SendLocalList"] = "NotSupported"
    generic.forced["SetChargingProfile"] = "NotSupported"
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    manager.data.settings.store_raw_uids = True
    _add_card(manager, CARD, uid=CARD)
    await rig.accept(generic)
    for status in ("Available", "Preparing", "Available", "Preparing"):
        await rig.send(generic.status(status))
        await rig.tick(30)
    assert await generic.boot() == "Accepted"
    await _until(rig, lambda: generic.commands.count("GetLocalListVersion") == 2)
    await rig.settle()
    assert await rig.send(generic.authorize(OTHER_CARD)) == "Invalid"
    for _ in range(2):  # a pause needs a profile
        with pytest.raises(HomeAssistantError) as unsupported:
            await rig.service(
                "switch", "turn_off", {"entity_id": rig.entity_id("switch", "charging_enabled")}
            )
        assert unsupported.value.translation_key == "ocpp_command_not_supported"
    assert caplog.text.count("has no local authorization list") == 1
    assert caplog.text.count("takes no charging profiles") == 1
    assert "is held until a credential is accepted" not in caplog.text
    assert "can neither be disabled nor limited" not in caplog.text
    assert rig.charger is not None
    assert not [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == "authorization_cannot_hold"
    ]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_card_before_the_first_register_keeps_its_session(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """A charger that reports its register only once the transaction runs (many do).

    The card accepted at Authorize belongs to the session that begins with the
    transaction: it charges at full power, is not held again, and the record is Alex's.
    """
    await _set_up_authorization(hass)
    _add_card(hass.data[AUTHORIZATION])
    await rig.accept(generic)
    await rig.send(generic.status("Available"))
    await rig.send(generic.status("Preparing"))
    assert await rig.send(generic.authorize(CARD)) == "Accepted"
    before = generic.register_wh
    assert await rig.send(generic.start_transaction(CARD)) == "Accepted"
    await rig.send(generic.status("Charging"))
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    assert generic.current_limit() is None
    await rig.send(generic.stop_transaction())
    await rig.send(generic.status("Available"))
    (record,) = rig.records
    assert record["authorization"]["person"] == "Alex"
    # By hand: 600 s at 11 kW is 1833.3 Wh, rounded by the meter to 1833.
    assert Decimal(record["energy_wh"]) == Decimal(generic.register_wh - before) == 1833


async def test_a_pause_survives_a_restart_of_home_assistant(
    hass: HomeAssistant, rig: Rig, generic: GenericOcpp16Charger
) -> None:
    """Paused, Home Assistant restarts, the charger reconnects: still paused, resumable."""
    await rig.accept(generic)
    await _plug_in_and_start(rig, generic)
    await _set_limit(rig, 10)
    switch = rig.entity_id("switch", "charging_enabled")
    await rig.service("switch", "turn_off", {"entity_id": switch})
    assert rig.charger is not None
    assert rig.central is not None
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    await generic.disconnect()
    del hass.data[OCPP_REGISTRY]
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()
    await generic.connect(rig.url)  # back without booting, its profiles kept
    await rig.send(generic.meter_values(0))
    assert hass.states.get(switch).state == "off"
    assert generic.current_limit() == 0.0
    await rig.service("switch", "turn_on", {"entity_id": switch})
    # The limit set before the restart: 10 A x 230 V x 3 = 6900 W.
    assert generic.current_limit() == 10.0
    await rig.tick(600)
    await rig.send(generic.charge(600, 11_000))
    assert rig.state("power") == "6900.0"


@dataclass
class WattsOnlyCharger(GenericOcpp16Charger):
    """A charger whose profiles must be in W (Huawei's, as quirks.json has it)."""

    rate_units: tuple[str, ...] = ("W",)

    vendor: ClassVar[str] = "Huawei"
    model: ClassVar[str] = "SCharger-7KS-S0"


async def test_a_charger_taking_watts_only_gets_the_limit_in_watts(
    hass: HomeAssistant, rig: Rig
) -> None:
    """The model's quirks say W: 10 A become 10 x 230 V x 3 = 6900 W, and it follows."""
    sim = WattsOnlyCharger("CP-W", password=PASSWORD)
    try:
        await rig.accept(sim)
        await _plug_in_and_start(rig, sim)
        await _set_limit(rig, 10)
        assert {p["unit"] for p in sim.profiles.values()} == {"W"}
        assert {p["limit"] for p in sim.profiles.values()} == {6900.0}
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))
        assert rig.state("power") == "6900.0"
    finally:
        await sim.disconnect()
