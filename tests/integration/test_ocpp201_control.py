"""Controlling OCPP 2.0.1 charging stations from Home Assistant's entities and actions.

The same entities, actions and errors as for OCPP 1.6 (test_ocpp_control.py), in 2.0.1's
messages. The station is the `ocpp` library v201 client of simulators/ocpp201_charger.py
on a real loopback websocket: it applies the charging profiles it accepts to the power its
simulated car draws, starts and stops transactions when asked, restarts, and decides cards
from its local list while it is disconnected. Nothing is mocked. Expected powers and
energies are worked out by hand in the comments (3 phases at 230 V).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.ev_charging_monitor.authorization.manager import AUTHORIZATION
from custom_components.ev_charging_monitor.authorization.model import (
    CredentialKind,
    CredentialStatus,
)
from custom_components.ev_charging_monitor.central_system.control import CommandRefused
from custom_components.ev_charging_monitor.central_system.registry import OCPP_REGISTRY
from custom_components.ev_charging_monitor.const import DOMAIN
from simulators.ocpp201_charger import GenericOcpp201Station

from .ocpp_rig import PASSWORD, Rig
from .test_authorization import CARD, OTHER_CARD, _add_card, _set_up_authorization
from .test_ocpp201 import accept

BLOCKED_CARD = "04BBBBBBBB"
STATION = "CS-CTL"


@pytest.fixture
async def station() -> AsyncIterator[GenericOcpp201Station]:
    """A generic single-EVSE 2.0.1 station that takes every request (unless forced)."""
    sim = GenericOcpp201Station(STATION, password=PASSWORD, serial="GEN201-CTL")
    yield sim
    await sim.disconnect()


async def _press(rig: Rig, key: str) -> None:
    await rig.service("button", "press", {"entity_id": rig.entity_id("button", key)})


async def _set_limit(rig: Rig, amps: float) -> None:
    await rig.service(
        "number",
        "set_value",
        {"entity_id": rig.entity_id("number", "current_limit"), "value": amps},
    )


async def _until(rig: Rig, sim: GenericOcpp201Station, done: Callable[[], bool], what: str) -> None:
    """Until `done()` and the station sent what it sends after its answers: its requests
    must have their answers before the tests move the clock (it would time out)."""
    await rig.until(lambda: done() and not sim.busy, what)


def _status(rig: Rig) -> str | None:
    """The connector status the central system follows (1.6 names)."""
    return rig.hass.data[OCPP_REGISTRY].chargers[STATION].status


async def _plug_in_and_start(rig: Rig, sim: GenericOcpp201Station, power_w: int = 11_000) -> None:
    """No authorization set up: the card is accepted and only recorded."""
    await rig.send(sim.status("Available"))
    await rig.tick(60)
    await rig.send(sim.plug_in())
    assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
    await rig.send(sim.start_charging(power_w))


async def test_current_limit_is_a_profile_and_the_power_follows(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The number and the action send SetChargingProfile: a TxDefaultProfile for the whole
    station and a TxProfile with the station's transaction id; the car draws what it allows."""
    await accept(rig, station)
    await _plug_in_and_start(rig, station)
    await _set_limit(rig, 6)
    assert station.profiles == {
        1: {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "transaction_id": None,
            "limit": 6.0,
            "unit": "A",
        },
        2: {
            "purpose": "TxProfile",
            "evse_id": 1,
            "transaction_id": station.transaction_id,
            "limit": 6.0,
            "unit": "A",
        },
    }
    before = station.register_wh
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    # By hand: 6 A x 3 phases x 230 V = 4140 W; 600 s of it = 690 Wh.
    assert rig.state("power") == "4140.0"
    assert station.register_wh - before == 690
    assert hass.states.get(rig.entity_id("number", "current_limit")).state == "6.0"
    # The action takes the same way; 16 A would allow 11040 W, more than the car takes.
    await rig.service(DOMAIN, "set_current_limit", {"device_id": rig.device_id(), "current": 16})
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    assert station.current_limit() == 16.0


async def test_pause_and_resume(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The charging switch pauses with a 0 A profile, resumes with the user's limit, and
    without one clears the profiles (ClearChargingProfile)."""
    await accept(rig, station)
    await _plug_in_and_start(rig, station)
    switch = rig.entity_id("switch", "charging_enabled")
    await rig.service("switch", "turn_off", {"entity_id": switch})
    assert station.current_limit() == 0.0
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    assert rig.state("power") == "0.0"
    assert hass.states.get(switch).state == "off"
    # Never limited: resuming removes the integration's profiles.
    await rig.service("switch", "turn_on", {"entity_id": switch})
    assert station.commands.count("ClearChargingProfile") == 2
    assert station.profiles == {}
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    # With a limit, the pause resumes to it: 12 A x 230 V x 3 = 8280 W.
    await _set_limit(rig, 12)
    await rig.service("switch", "turn_off", {"entity_id": switch})
    await rig.service("switch", "turn_on", {"entity_id": switch})
    assert station.current_limit() == 12.0
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    assert rig.state("power") == "8280.0"
    assert station.transaction_id is not None  # paused is not stopped


async def test_remote_start_for_a_user_and_remote_stop(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station, hass_admin_user: MockUser
) -> None:
    """A Home Assistant user authorises: RequestStartTransaction with a Central idToken;
    the stop button sends RequestStopTransaction with the station's transaction id."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, hass_admin_user.id, kind=CredentialKind.HA_USER, person="Kim")
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.tick(60)
    await rig.send(station.plug_in())
    before = station.register_wh
    await rig.service(DOMAIN, "authorize", {"device_id": rig.device_id()}, hass_admin_user)
    await _until(rig, station, lambda: _status(rig) == "Charging", "the remote start charges")
    (start,) = station.remote_starts
    tag = start["id_token"]["id_token"]
    assert start["id_token"]["type"] == "Central"
    assert tag.startswith("HA")
    assert isinstance(start["remote_start_id"], int)
    started = station.events[0]
    assert started.trigger_reason == "RemoteStart"
    assert started.transaction_info.remote_start_id == start["remote_start_id"]
    assert station.answers == ["Accepted"]
    assert manager.data.unknown == []  # the remote start's token is no unknown card
    for _ in range(2):
        await rig.tick(600)
        await rig.send(station.charge(600, 11_000))
    assert rig.state("power") == "11000.0"
    transaction = station.transaction_id
    await _press(rig, "stop_charging")
    await _until(rig, station, lambda: station.transaction_id is None, "the remote stop ends it")
    assert "RequestStopTransaction" in station.commands
    ended = station.events[-1]
    assert ended.transaction_info.transaction_id == transaction
    assert ended.transaction_info.stopped_reason == "Remote"
    await rig.tick(30)
    await rig.send(station.unplug())
    (record,) = rig.records
    # By hand: 600 s at 11 kW is 1833.3 Wh, which the meter shows rounded: 2 x 1833.3
    # = 3666.7 Wh of exact register, 3667 at 1 Wh resolution.
    assert station.register_wh - before == 3667
    assert Decimal(record["energy_wh"]) == Decimal(3667)
    assert record["authorization"]["method"] == "ha_user"
    assert record["authorization"]["person"] == "Kim"


async def test_reset_unlock_and_availability(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Restart (Reset OnIdle) reboots and gets its limit back; unlock names EVSE and
    connector; availability switches the station; a reset during a transaction waits."""
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await _set_limit(rig, 10)
    station.profiles.clear()  # a station that forgets its profiles when it restarts
    await _press(rig, "restart")
    assert station.resets == ["OnIdle"]
    await _until(rig, station, lambda: station.current_limit() == 10.0, "the limit is given again")
    assert station.connected
    assert station.registration == "Accepted"
    await _press(rig, "unlock_connector")
    assert station.unlocks == 1
    available = rig.entity_id("switch", "available")
    await rig.service("switch", "turn_off", {"entity_id": available})
    await _until(rig, station, lambda: _status(rig) == "Unavailable", "Unavailable")
    assert hass.states.get(available).state == "off"
    await rig.service("switch", "turn_on", {"entity_id": available})
    await _until(rig, station, lambda: _status(rig) == "Available", "Available")
    assert hass.states.get(available).state == "on"
    # During a transaction the reset is Scheduled: no error, the station restarts after it.
    await _plug_in_and_start(rig, station)
    await _press(rig, "restart")
    assert station.reset_scheduled
    assert station.connected
    await rig.send(station.stop_transaction())
    await _until(rig, station, lambda: not station.reset_scheduled, "the scheduled reset")
    await station.wait_accepted()
    assert station.resets == ["OnIdle", "OnIdle"]


async def test_refusals_are_translated_errors(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Rejected, UnlockFailed, NotSupported and NotImplemented CALLERRORs: the same
    translated errors as for 1.6, naming the 2.0.1 message; nothing breaks."""
    await accept(rig, station)
    await _plug_in_and_start(rig, station)
    station.forced["SetChargingProfile"] = "Rejected"
    with pytest.raises(HomeAssistantError) as refused:
        await _set_limit(rig, 10)
    assert refused.value.translation_key == "ocpp_command_refused"
    assert refused.value.translation_placeholders["action"] == "SetChargingProfile"
    assert refused.value.translation_placeholders["status"] == "Rejected"
    assert "refused SetChargingProfile: Rejected" in str(refused.value)
    station.forced["UnlockConnector"] = "UnlockFailed"
    with pytest.raises(HomeAssistantError) as failed:
        await _press(rig, "unlock_connector")
    assert failed.value.translation_placeholders["status"] == "UnlockFailed"
    station.forced["Reset"] = "NotSupported"
    with pytest.raises(HomeAssistantError) as unsupported:
        await _press(rig, "restart")
    assert unsupported.value.translation_key == "ocpp_command_not_supported"
    assert unsupported.value.translation_placeholders["action"] == "Reset"
    station.forced["RequestStopTransaction"] = "NotImplemented"
    with pytest.raises(HomeAssistantError) as not_implemented:
        await _press(rig, "stop_charging")
    assert not_implemented.value.translation_key == "ocpp_command_not_supported"
    assert not_implemented.value.translation_placeholders["action"] == "RequestStopTransaction"
    # The station and its session are unharmed; the next command it takes works.
    station.forced.clear()
    await _set_limit(rig, 10)
    await rig.tick(600)
    await rig.send(station.charge(600, 11_000))
    # By hand: 10 A x 230 V x 3 = 6900 W.
    assert rig.state("power") == "6900.0"
    assert rig.charger is not None
    assert rig.charger.state is ConfigEntryState.LOADED


async def test_a_station_that_does_not_answer_is_a_timeout(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """A request the station never answers ends in the translated timeout error."""
    await accept(rig, station)
    await rig.send(station.status("Available"))
    station.silent.add("UnlockConnector")
    pressed = asyncio.ensure_future(_press(rig, "unlock_connector"))
    # The library waits 30 s for an answer: the clock moves on until it gives up (only
    # the clock: Home Assistant's "until done" would wait for the press itself).
    for _ in range(400):
        if pressed.done():
            break
        rig.freezer.tick(0.1)
        await asyncio.sleep(0)
    with pytest.raises(HomeAssistantError) as silent:
        await pressed
    assert silent.value.translation_key == "ocpp_command_timeout"
    assert silent.value.translation_placeholders["action"] == "UnlockConnector"
    station.silent.clear()
    await _press(rig, "unlock_connector")
    assert station.unlocks == 1


async def test_a_station_that_goes_away_before_answering_is_offline_at_once(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """A request waiting for its answer ends when the connection closes: the clock stands
    still here, so only the closed connection can end it (the library waits 30 s)."""
    await accept(rig, station)
    await rig.send(station.status("Available"))
    station.silent.add("UnlockConnector")
    pressed = asyncio.ensure_future(_press(rig, "unlock_connector"))

    async def real_until(done: Callable[[], bool], what: str) -> None:
        # Not the rig's wait: Home Assistant's "until done" would wait for the press too.
        deadline = time.clock_gettime(time.CLOCK_MONOTONIC) + 60
        while not done():
            assert time.clock_gettime(time.CLOCK_MONOTONIC) < deadline, what
            await hass.async_add_executor_job(time.sleep, 0.01)

    await real_until(lambda: "UnlockConnector" in station.commands, "the request arrived")
    await station.disconnect()
    await real_until(pressed.done, "the press ended")
    with pytest.raises(HomeAssistantError) as gone:
        await pressed
    assert gone.value.translation_key == "ocpp_charger_offline"
    assert gone.value.translation_placeholders["action"] == "UnlockConnector"
    assert station.unlocks == 0


async def test_an_offline_station_is_a_translated_error(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Commands to a station that is not connected (mid-transaction) say so, by name."""
    await accept(rig, station)
    await _plug_in_and_start(rig, station)
    await station.disconnect()
    await rig.settle()
    with pytest.raises(HomeAssistantError) as offline:
        await rig.service(
            DOMAIN, "set_current_limit", {"device_id": rig.device_id(), "current": 10}
        )
    assert offline.value.translation_key == "ocpp_charger_offline"
    assert "is not connected to the OCPP central system" in str(offline.value)
    assert offline.value.translation_placeholders["action"] == "SetChargingProfile"
    with pytest.raises(HomeAssistantError) as stopping:
        await rig.service(DOMAIN, "stop_charging", {"device_id": rig.device_id()})
    assert stopping.value.translation_key == "ocpp_charger_offline"
    # Named as the station's OCPP version names it.
    assert stopping.value.translation_placeholders["action"] == "RequestStopTransaction"
    assert "(RequestStopTransaction not sent)" in str(stopping.value)


async def test_a_profile_for_a_transaction_the_station_does_not_run_is_refused(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The station checks what it is sent: the TxProfile of a transaction it does not run
    is Rejected (K01.FR.09), the default alone then decides, as 1.6."""
    await accept(rig, station)
    await _plug_in_and_start(rig, station)
    registry = hass.data[OCPP_REGISTRY]
    # The central system's book names a transaction the station no longer runs.
    station.transaction_id = "not-the-station's"
    await _set_limit(rig, 8)
    assert station.profiles[1]["limit"] == 8.0
    assert 2 not in station.profiles
    assert registry.book.open.get(STATION) is not None


async def test_local_list_decides_while_home_assistant_is_away(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """The allow-list's cards reach the station (ISO 14443 idTokens); disconnected, the
    listed card charges and the unlisted and blocked ones are refused. The session it
    charged arrives once the station is back, with the meter's delta, as Alex's."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    manager.data.settings.store_raw_uids = True  # the station needs the UIDs themselves
    _add_card(manager, CARD, uid=CARD)
    _add_card(
        manager, BLOCKED_CARD, person="Sam", uid=BLOCKED_CARD, status=CredentialStatus.BLOCKED
    )
    station.offline_tx_for_unknown_id = False
    await accept(rig, station)
    await _until(rig, station, lambda: bool(station.local_list_updates), "the local list")
    assert station.local_list_updates == [("Full", 1, 2)]
    assert station.local_list == {
        CARD: {"status": "Accepted"},
        BLOCKED_CARD: {"status": "Blocked"},
    }
    await rig.send(station.status("Available"))
    await station.disconnect()
    await rig.settle()
    assert await station.authorize(OTHER_CARD) == "Unknown"
    assert await station.start_transaction(OTHER_CARD) == "Unknown"
    assert await station.start_transaction(BLOCKED_CARD) == "Blocked"
    assert station.transaction_id is None
    before = station.register_wh
    assert await station.start_transaction(CARD) == "Accepted"
    await station.start_charging(11_000)
    await rig.tick(600)
    await station.charge(600, 11_000)
    await station.stop_transaction()
    await rig.tick(60)
    assert station.queued == 4  # Started, Updated (charging), periodic, Ended
    await station.connect(rig.url)
    assert await station.boot() == "Accepted"
    await rig.send(station.deliver_queued())
    await rig.send(station.unplug())
    await rig.tick(60)
    (record,) = rig.records
    # By hand: 600 s at 11 kW = 1833.3 Wh, 1833 at 1 Wh resolution.
    assert station.register_wh - before == 1833
    assert Decimal(record["energy_wh"]) == Decimal(1833)
    assert record["authorization"]["person"] == "Alex"
    # Back and booted: the same version, nothing sent again.
    await rig.until(
        lambda: station.commands.count("GetLocalListVersion") == 2, "the version read again"
    )
    assert station.local_list_updates == [("Full", 1, 2)]


async def test_an_allow_list_change_is_a_differential_update(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """A card added is a Differential update; a list changed behind our back is refused
    (VersionMismatch) and the whole list goes again."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    manager.data.settings.store_raw_uids = True
    _add_card(manager, CARD, uid=CARD)
    await accept(rig, station)
    await _until(rig, station, lambda: bool(station.local_list_updates), "the local list")
    assert station.local_list_updates == [("Full", 1, 1)]
    _add_card(manager, OTHER_CARD, person="Sam", uid=OTHER_CARD)
    await rig.settle()
    assert station.local_list_updates == [("Full", 1, 1), ("Differential", 2, 1)]
    assert station.local_list[OTHER_CARD] == {"status": "Accepted"}
    station.local_list_version = 7
    station.local_list.pop(CARD)
    _add_card(manager, BLOCKED_CARD, person="Kai", uid=BLOCKED_CARD)
    await rig.settle()
    assert station.local_list_updates[-1] == ("Full", 4, 3)
    assert set(station.local_list) == {CARD, OTHER_CARD, BLOCKED_CARD}


async def test_a_restart_between_remote_start_and_transaction_keeps_the_person(
    hass: HomeAssistant,
    rig: Rig,
    station: GenericOcpp201Station,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """The user authorises, the station accepts the remote start but begins only after
    Home Assistant restarted: its token is still ours, the session is still Kim's."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, hass_admin_user.id, kind=CredentialKind.HA_USER, person="Kim")
    station.defer_remote_start = True
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.tick(60)
    await rig.send(station.plug_in())
    await rig.service(DOMAIN, "authorize", {"device_id": rig.device_id()}, hass_admin_user)
    await _until(rig, station, lambda: station.pending_remote_start is not None, "the remote start")
    assert station.pending_remote_start is not None
    token, remote_start_id = station.pending_remote_start
    assert rig.charger is not None
    assert rig.central is not None
    kept = hass_storage[f"{DOMAIN}.{rig.charger.entry_id}.ocpp_remote_starts"]["data"]["tags"]
    assert list(kept) == [token["id_token"]]
    # Home Assistant restarts: every entry unloaded, the registry gone, loaded again.
    assert await hass.config_entries.async_unload(rig.charger.entry_id)
    assert await hass.config_entries.async_unload(rig.central.entry_id)
    await station.disconnect()
    del hass.data[OCPP_REGISTRY]
    assert await hass.config_entries.async_setup(rig.central.entry_id)
    assert await hass.config_entries.async_setup(rig.charger.entry_id)
    await hass.async_block_till_done()
    rig.drive_monotonic()
    await station.connect(rig.url)
    assert await station.boot() == "Accepted"
    # Accepted: it is configured again and asked for its register. The simulated register
    # grows only when `charge` says so: a register asked for later would be a stale one.
    await _until(rig, station, lambda: station.triggered.count("MeterValues") == 2, "set up")
    await rig.send(station.status("Occupied"))
    before = station.register_wh
    await rig.send(station.remote_start(token, remote_start_id))
    assert station.answers == ["Accepted"]
    assert manager.data.unknown == []
    await rig.tick(600)
    await rig.send(station.charge(600, 7_400))
    await rig.send(station.stop_transaction())
    await rig.tick(30)
    await rig.send(station.unplug())
    (record,) = rig.records
    # By hand: 600 s at 7.4 kW = 1233.3 Wh, 1233 at 1 Wh resolution.
    assert station.register_wh - before == 1233
    assert Decimal(record["energy_wh"]) == Decimal(1233)
    assert record["authorization"]["person"] == "Kim"
    assert record["authorization"]["method"] == "ha_user"


async def test_a_remote_start_token_expires(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station, hass_admin_user: MockUser
) -> None:
    """A remote start's token is accepted only for a while: presented after 10 minutes
    it is a card like any other (here: unknown, refused)."""
    await _set_up_authorization(hass)
    manager = hass.data[AUTHORIZATION]
    _add_card(manager, hass_admin_user.id, kind=CredentialKind.HA_USER, person="Kim")
    station.defer_remote_start = True
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.send(station.plug_in())
    await rig.service(DOMAIN, "authorize", {"device_id": rig.device_id()}, hass_admin_user)
    await _until(rig, station, lambda: station.pending_remote_start is not None, "the remote start")
    assert station.pending_remote_start is not None
    await rig.tick(11 * 60)
    await rig.send(station.remote_start(*station.pending_remote_start))
    assert station.answers == ["Unknown"]
    assert station.transaction_id is None


async def test_meter_variables_follow_the_model_and_what_it_samples(
    hass: HomeAssistant, rig: Rig
) -> None:
    """A station that cannot sample SoC rejects the whole list (as 1.6 chargers do): it
    is asked measurand by measurand, then for those it takes, and the list read back."""

    class NoSoc(GenericOcpp201Station):
        measurands = GenericOcpp201Station.measurands - {"SoC"}

    sim = NoSoc("CS-NOSOC", password=PASSWORD)
    try:
        await accept(rig, sim)
        taken = (
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
            "Current.Offered,Power.Offered"
        )
        assert sim.variables["SampledDataCtrlr.TxUpdatedMeasurands"] == taken
        assert sim.variables["SampledDataCtrlr.TxUpdatedInterval"] == "60"
        charger = hass.data[OCPP_REGISTRY].chargers["CS-NOSOC"]
        assert ",".join(charger.measurands) == taken
    finally:
        await sim.disconnect()


async def test_a_refused_remote_start_keeps_no_token(
    hass: HomeAssistant,
    rig: Rig,
    station: GenericOcpp201Station,
    hass_storage: dict[str, Any],
) -> None:
    """Start charging while a car waits: the station rejects RequestStartTransaction, the
    user gets the translated refusal, and its token is not kept for a later start."""
    await accept(rig, station)
    await rig.send(station.status("Available"))
    await rig.send(station.plug_in())
    station.forced["RequestStartTransaction"] = "Rejected"
    with pytest.raises(HomeAssistantError) as refused:
        await _press(rig, "start_charging")
    assert refused.value.translation_key == "ocpp_command_refused"
    assert refused.value.translation_placeholders["action"] == "RequestStartTransaction"
    assert refused.value.translation_placeholders["status"] == "Rejected"
    assert station.transaction_id is None
    assert rig.charger is not None
    kept = hass_storage[f"{DOMAIN}.{rig.charger.entry_id}.ocpp_remote_starts"]["data"]
    assert kept == {"tags": {}}
    # Taken the next time, with a new token.
    station.forced.clear()
    await _press(rig, "start_charging")
    await _until(rig, station, lambda: station.transaction_id is not None, "the remote start")
    (start,) = station.remote_starts
    assert station.answers == ["Accepted"]
    assert start["id_token"]["id_token"].startswith("HA")


async def test_the_station_refuses_an_evse_it_does_not_have(
    hass: HomeAssistant, rig: Rig, station: GenericOcpp201Station
) -> None:
    """Commands naming EVSE 2 (this station has one): UnknownConnector and Rejected, each
    the translated refusal. The entities only ever name EVSE 1; the control is called
    directly here, as a second connector would."""
    await accept(rig, station)
    await rig.send(station.status("Available"))
    assert rig.charger is not None
    device = rig.charger.runtime_data.device
    control = getattr(device, "inner", device).control  # behind authorization's guard
    with pytest.raises(CommandRefused) as unlock:
        await control.unlock(connector_id=2)
    assert (unlock.value.action, unlock.value.detail) == ("UnlockConnector", "UnknownConnector")
    with pytest.raises(CommandRefused) as start:
        await control.remote_start("HA0123", connector_id=2)
    assert (start.value.action, start.value.detail) == ("RequestStartTransaction", "Rejected")
    assert station.unlocks == 0
    assert station.remote_starts == []


class WattsOnlyStation(GenericOcpp201Station):
    """A station whose profiles must be in W (Huawei's, as quirks.json has it)."""

    vendor = "Huawei"
    model = "SCharger-7KS-S0"
    rate_units = ("W",)


async def test_a_station_taking_watts_only_gets_the_limit_in_watts(
    hass: HomeAssistant, rig: Rig
) -> None:
    """The model's quirks say W: 6 A become 6 x 230 V x 3 = 4140 W, and the car follows."""
    sim = WattsOnlyStation("CS-W", password=PASSWORD)
    try:
        await accept(rig, sim)
        await rig.send(sim.status("Available"))
        await rig.send(sim.plug_in())
        assert await rig.send(sim.start_transaction(CARD)) == "Accepted"
        await rig.send(sim.start_charging(11_000))
        await _set_limit(rig, 6)
        assert {p["unit"] for p in sim.profiles.values()} == {"W"}
        assert {p["limit"] for p in sim.profiles.values()} == {4140.0}
        await rig.tick(600)
        await rig.send(sim.charge(600, 11_000))
        assert rig.state("power") == "4140.0"
    finally:
        await sim.disconnect()
