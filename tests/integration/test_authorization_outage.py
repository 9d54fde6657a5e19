"""No unauthorised ampere-second: a real Home Assistant, a Vestel simulator in real time.

A sampler reads the current the simulated car really draws every 10 ms. The test decides
on its own which vehicle may charge (the one a valid card was presented for, and only
while Home Assistant is up to decide it); every ampere-second drawn by any other vehicle
is unauthorised, and each scenario prints and checks the sum.

Time is scaled down by 10 so the suite stays short: the simulator's failsafe timeout is
2 s instead of the Vestel's factory 20 s, the outage 4 s instead of 40 s, and the
integration (through a copy of the shipped profile with only the heartbeat interval
changed) feeds the watchdog every 0.5 s instead of 5 s and polls every second. The
factory failsafe current (6 A) is not scaled: it is what an unconfigured box falls back to.

"HA killed" is the charger entry unloaded without a word to the device (no release, no
failsafe restore, heartbeat stopped) and the authorization Store read afresh on return,
as a new process would.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
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
from custom_components.ev_charging_monitor.authorization.subentries import (
    async_sync,
    authorization_entry,
    card_subentry,
    person_subentry,
)
from custom_components.ev_charging_monitor.const import (
    CONF_DRIVER,
    CONF_PROFILE_YAML,
    CONF_SCAN_INTERVAL,
    DOMAIN,
)
from custom_components.ev_charging_monitor.devices.modbus.profile import PROFILES_DIR
from simulators.clock import SimClock
from simulators.devices.vestel_evc04 import FACTORY_FAILSAFE_A, VestelEVC04
from simulators.vehicle import Vehicle

from .test_authorization import _set_up_authorization

SCALE = 10
TIMEOUT_S = 20 / SCALE
OUTAGE_S = 40 / SCALE
SAMPLE_S = 0.01
CARD = "04A2B3C4D5"
STATUS = "sensor.vestel_evc04_authorization"


def _scaled_profile() -> str:
    """The shipped Vestel profile, heartbeat every 0.5 s (its 20 s timeout / 4, scaled)."""
    text = (PROFILES_DIR / "vestel_evc04.yaml").read_text()
    scaled, count = re.subn(
        r"(watchdog: \{action: write, address: 6000, value: 1, interval: )5\}", r"\g<1>0.5}", text
    )
    assert count == 1
    return scaled


class Rig:
    """Home Assistant, the simulator and a sampler of the car's current."""

    def __init__(self, hass: HomeAssistant, wallbox: VestelEVC04) -> None:
        self.hass = hass
        self.wallbox = wallbox
        self.entry: ConfigEntry | None = None
        self.authorised: set[int] = set()  # id() of the vehicles the test authorised
        self.unauthorised_as = 0.0
        self.authorised_as = 0.0
        self.samples = 0
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        hass.bus.async_listen(
            EVENT_AUTHORIZATION, callback(lambda e: self.events.append(dict(e.data)))
        )

    @property
    def manager(self) -> AuthorizationManager:
        return self.hass.data[AUTHORIZATION]

    async def _sample(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(SAMPLE_S)
            now = time.monotonic()
            charger = self.wallbox.charger
            amps = max(charger.phases().current)
            vehicle = charger.vehicle
            if vehicle is not None and amps > 0:
                if id(vehicle) in self.authorised:
                    self.authorised_as += amps * (now - last)
                else:
                    self.unauthorised_as += amps * (now - last)
            self.samples += 1
            last = now

    def start_sampling(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop_sampling(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await self._task

    async def add_charger(self) -> None:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Vestel EVC04",
            unique_id=self.wallbox.serial,
            data={
                CONF_HOST: "127.0.0.1",
                CONF_PORT: self.wallbox.port,
                CONF_DRIVER: "vestel_evc04",
                CONF_PROFILE_YAML: _scaled_profile(),
            },
            options={CONF_SCAN_INTERVAL: 1},
        )
        entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(entry.entry_id)
        await self.hass.async_block_till_done()
        self.entry = entry

    async def kill(self) -> None:
        """Home Assistant stops: no poll, no heartbeat, nothing written to the device."""
        assert self.entry is not None
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)

    async def restart(self) -> None:
        """A new process: the authorization Store read afresh, the charger set up again."""
        assert self.entry is not None
        self.hass.data[AUTHORIZATION] = await AuthorizationManager.async_load(self.hass)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait_for(self, condition: Callable[[], bool], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)

    def add_card(self) -> None:
        """Alex and Alex's card, as the subentries "Add person" and "Add card" make them."""
        entry = authorization_entry(self.hass)
        assert entry is not None
        person = Person(id="p-alex", name="Alex")
        key = self.manager.hash(CredentialKind.RFID, CARD)
        credential = Credential(id="c-alex", kind=CredentialKind.RFID, key=key, person_id=person.id)
        self.hass.config_entries.async_add_subentry(entry, person_subentry(person))
        self.hass.config_entries.async_add_subentry(entry, card_subentry(credential, "Alex"))
        async_sync(self.hass, entry, self.manager.data)

    def report(self, name: str) -> None:
        print(f"{name}: unauthorised_ampere_seconds={self.unauthorised_as:g}")
        assert self.samples > 100  # the sampler really ran
        assert self.unauthorised_as == 0, f"{name}: {self.unauthorised_as:.2f} A*s unauthorised"


@pytest.fixture
async def rig(hass: HomeAssistant) -> AsyncIterator[Rig]:
    """Authorization set up, then a Vestel with its factory failsafe, sampled every 10 ms."""
    wallbox = VestelEVC04(SimClock(), failsafe_timeout=int(TIMEOUT_S))
    assert wallbox.charger.safe_current == FACTORY_FAILSAFE_A > 0
    await wallbox.start()
    rig = Rig(hass, wallbox)
    await _set_up_authorization(hass)
    await rig.add_charger()
    rig.start_sampling()
    yield rig
    await rig.stop_sampling()
    if rig.entry is not None and rig.entry.state.recoverable:
        await hass.config_entries.async_unload(rig.entry.entry_id)
    await wallbox.stop()


async def test_killed_with_an_unknown_car(hass: HomeAssistant, rig: Rig) -> None:
    """40 s (scaled) without Home Assistant: the held box falls back to 0 A, not to 6 A."""
    car = rig.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await rig.wait(2)
    assert hass.states.get(STATUS).state == "locked"
    # Read back from the simulator: the held box would fall back to 0 A within a timeout.
    failsafe = (rig.wallbox.charger.safe_current, rig.wallbox.charger.watchdog_timeout)
    await rig.kill()
    await rig.wait(OUTAGE_S)
    assert rig.wallbox.charger.watchdog_expired()  # the outage really was longer
    await rig.restart()
    await rig.wait(3)
    rig.report("killed_with_unknown_car")
    assert failsafe == (0, TIMEOUT_S)
    assert rig.wallbox.charger.vehicle is car
    assert hass.states.get(STATUS).state == "locked"


async def test_car_swapped_while_killed(hass: HomeAssistant, rig: Rig) -> None:
    """Alex charges with a card; while Home Assistant is down another car takes the cable."""
    rig.add_card()
    alex = rig.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    rig.authorised.add(id(alex))
    rig.wallbox.charger.swipe(CARD)
    await rig.wait_for(lambda: max(rig.wallbox.charger.phases().current) > 0)
    await rig.wait(2)
    assert rig.authorised_as > 0
    await rig.kill()
    await rig.wait(TIMEOUT_S + 0.5)  # the box is on its own now
    rig.wallbox.charger.unplug()
    other = rig.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await rig.wait(OUTAGE_S - TIMEOUT_S - 0.5)
    await rig.restart()
    await rig.wait(4)
    rig.report("car_swapped_while_killed")
    assert rig.wallbox.charger.vehicle is other
    assert hass.states.get(STATUS).state == "locked"
    assert hass.states.get("sensor.vestel_evc04_authorized_person").state == "unknown"


async def test_restart_with_a_card_before_plug_in(hass: HomeAssistant, rig: Rig) -> None:
    """A card shown to the idle box, Home Assistant restarts, then the car comes: it charges.

    Nothing may flow while Home Assistant is down (nobody has decided yet); after the
    restart the card presented before the plug-in authorises it.
    """
    rig.add_card()
    await rig.manager.async_save()
    rig.wallbox.charger.swipe(CARD)
    await rig.wait(2)  # a poll has seen the card
    await rig.kill()
    await rig.wait(OUTAGE_S / 2)
    car = rig.wallbox.charger.plug(Vehicle(max_current=16, phases=3))
    await rig.wait(OUTAGE_S / 2)
    await rig.restart()
    await hass.async_block_till_done()
    rig.authorised.add(id(car))  # from now on Home Assistant may decide
    await rig.wait_for(lambda: max(rig.wallbox.charger.phases().current) > 0)
    await rig.wait(1)
    assert rig.authorised_as > 0
    assert [(e["result"], e["person"]) for e in rig.events] == [("accepted", "Alex")]
    assert hass.states.get("sensor.vestel_evc04_authorized_person").state == "Alex"
    rig.report("restart_with_card_before_plug_in")


async def test_non_admin_sets_the_current_while_held(
    hass: HomeAssistant, rig: Rig, hass_admin_user: User
) -> None:
    """A non-administrator's 20 A is refused, not kept for Alex's session."""
    guest = await hass.auth.async_create_user("Guest", group_ids=["system-users"])
    rig.add_card()
    car = rig.wallbox.charger.plug(Vehicle(max_current=32, phases=3))
    await rig.wait(2)
    device_id = next(iter(_device_ids(hass, rig)))
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("number", "set_value", {"entity_id": "number.vestel_evc04_current_limit", "value": 20}),
        (DOMAIN, "set_current_limit", {"device_id": device_id, "current": 20}),
    ]
    for domain, service, data in calls:
        with pytest.raises(ServiceValidationError) as refused:
            await hass.services.async_call(
                domain, service, data, blocking=True, context=Context(user_id=guest.id)
            )
        assert refused.value.translation_key == "current_limit_while_held"
    assert rig.manager.data.charger(rig.entry.entry_id).limit_a is None  # type: ignore[union-attr]
    await rig.wait(2)
    assert rig.wallbox.charger.current_limit == 0
    rig.authorised.add(id(car))
    rig.wallbox.charger.swipe(CARD)
    await rig.wait_for(lambda: max(rig.wallbox.charger.phases().current) > 0)
    await rig.wait(1)
    assert rig.wallbox.charger.current_limit == 32  # the maximum, not the guest's 20 A
    rig.report("non_admin_current_while_held")


def _device_ids(hass: HomeAssistant, rig: Rig) -> set[str]:
    assert rig.entry is not None
    return {d.id for d in dr.async_entries_for_config_entry(dr.async_get(hass), rig.entry.entry_id)}
