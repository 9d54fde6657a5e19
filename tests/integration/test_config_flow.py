"""Every step and error of the config and reconfigure flows, each ending in recovery.

The options flow has its own tests: test_options_flow.py.

The peers are the simulators on loopback; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import (
    SOURCE_HASSIO,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    SOURCE_ZEROCONF,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_charging_monitor.config_flow import EVChargingConfigFlow
from custom_components.ev_charging_monitor.const import (
    CONF_DRIVER,
    CONF_PROFILE_YAML,
    DOMAIN,
)
from custom_components.ev_charging_monitor.devices.modbus import profile as profile_module
from simulators.clock import SimClock
from simulators.devices.shelly_pro3em import ShellyPro3EMSimulator
from simulators.devices.vestel_evc04 import VestelEVC04

from .conftest import AddDevice

PROFILES = (
    Path(__file__).parents[2] / "custom_components" / "ev_charging_monitor" / "devices" / "modbus"
)


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def _manual(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "manual",
        "scan",
        "authorization",
        "keba",
        "entities",
        "central_system",
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    assert result["step_id"] == "manual"
    return dict(result)


async def _configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    await hass.async_block_till_done()
    return dict(result)


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def other_wallbox(clock: SimClock) -> AsyncIterator[VestelEVC04]:
    """A second EVC04 (another serial), for reconfiguring to a different device."""
    simulator = VestelEVC04(clock, serial="VES2024000999")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_manual_auto_cannot_connect_then_created(
    hass: HomeAssistant, wallbox: VestelEVC04
) -> None:
    """Nothing at the port: cannot_connect; the right port: an entry named after the device."""
    result = await _manual(hass)
    user = {CONF_HOST: "127.0.0.1", CONF_PORT: _closed_port(), CONF_DRIVER: "auto"}
    result = await _configure(hass, result["flow_id"], user)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await _configure(hass, result["flow_id"], {**user, CONF_PORT: wallbox.port})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Vestel EVC04"
    assert result["result"].unique_id == "VES2024000123"
    assert result["data"] == {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: wallbox.port,
        CONF_DRIVER: "vestel_evc04",
    }
    await _unload_all(hass)


async def test_manual_unsupported_then_created(hass: HomeAssistant, wallbox: VestelEVC04) -> None:
    """A Modbus device none of the profiles recognises; then the recognised one."""
    wallbox.brand = "Acme"  # no longer matches the EVC04's brand probe
    result = await _manual(hass)
    user = {CONF_HOST: "127.0.0.1", CONF_PORT: wallbox.port, CONF_DRIVER: "auto"}
    result = await _configure(hass, result["flow_id"], user)
    assert result["errors"] == {"base": "unsupported_device"}
    wallbox.brand = "Vestel"
    result = await _configure(hass, result["flow_id"], user)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await _unload_all(hass)


async def test_manual_profile_wrong_device_then_right(
    hass: HomeAssistant, wallbox: VestelEVC04
) -> None:
    """A chosen profile that does not fit the device cannot read it; the right one can."""
    result = await _manual(hass)
    user = {CONF_HOST: "127.0.0.1", CONF_PORT: wallbox.port, CONF_DRIVER: "eastron_sdm630"}
    result = await _configure(hass, result["flow_id"], user)
    assert result["errors"] == {"base": "cannot_connect"}
    result = await _configure(hass, result["flow_id"], {**user, CONF_DRIVER: "vestel_evc04"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DRIVER] == "vestel_evc04"
    await _unload_all(hass)


async def test_custom_profile_invalid_then_valid(hass: HomeAssistant, wallbox: VestelEVC04) -> None:
    """A broken profile shows invalid_profile and what is wrong; a valid one is used."""
    result = await _manual(hass)
    result = await _configure(
        hass,
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: wallbox.port, CONF_DRIVER: "custom"},
    )
    assert result["step_id"] == "custom_profile"
    result = await _configure(hass, result["flow_id"], {CONF_PROFILE_YAML: "id: x\nkind: toaster"})
    assert result["errors"] == {CONF_PROFILE_YAML: "profile_not_allowed"}
    assert result["description_placeholders"]["field"] == "kind"
    assert result["description_placeholders"]["allowed"] == "charger, meter"
    text = (PROFILES / "profiles" / "vestel_evc04.yaml").read_text()
    text = text.replace("id: vestel_evc04", "id: my_vestel")
    result = await _configure(hass, result["flow_id"], {CONF_PROFILE_YAML: text})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DRIVER] == "my_vestel"
    assert result["data"][CONF_PROFILE_YAML] == text
    assert result["result"].state.value == "loaded"
    await _unload_all(hass)


async def test_already_configured_updates_host(
    hass: HomeAssistant, wallbox: VestelEVC04, add_device: AddDevice
) -> None:
    """Adding the same device again aborts and keeps one entry with the new address."""
    entry = await add_device(wallbox)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_HOST: "192.0.2.1"})
    result = await _manual(hass)
    result = await _configure(
        hass,
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: wallbox.port, CONF_DRIVER: "auto"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_scan_invalid_then_nothing_found(hass: HomeAssistant) -> None:
    """A network that is no /24 is refused; an empty network aborts with no_devices_found."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await _configure(hass, result["flow_id"], {"next_step_id": "scan"})
    assert result["step_id"] == "scan"
    result = await _configure(hass, result["flow_id"], {"network": "10.0.0.0/16"})
    assert result["errors"] == {"network": "invalid_network"}
    result = await _configure(hass, result["flow_id"], {"network": "not a network"})
    assert result["errors"] == {"network": "invalid_network"}
    # The scan probes the fixed Modbus ports; something else on them (a running demo)
    # would be found, so the "nothing found" half needs them free.
    for port in (502, 1502):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port} is in use on this machine")
    result = await _configure(hass, result["flow_id"], {"network": "127.0.0.1/32"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


async def test_scan_finds_device(hass: HomeAssistant, clock: SimClock) -> None:
    """A simulator on the usual port 1502 is found by the scan and added."""
    simulator = VestelEVC04(clock)
    try:
        await simulator.start(port=1502)
    except Exception:
        pytest.skip("port 1502 is taken on this machine")
    try:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await _configure(hass, result["flow_id"], {"next_step_id": "scan"})
        result = await _configure(hass, result["flow_id"], {"network": "127.0.0.1/32"})
        assert result["step_id"] == "scan_results"
        options = result["data_schema"].schema["found"].config["options"]
        assert options == [{"value": "0", "label": "Vestel EVC04 (127.0.0.1:1502)"}]
        result = await _configure(hass, result["flow_id"], {"found": "0"})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"] == {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: 1502,
            CONF_DRIVER: "vestel_evc04",
        }
        await _unload_all(hass)
    finally:
        await simulator.stop()


def _zeroconf(port: int | None, host: str = "127.0.0.1") -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(host),
        ip_addresses=[ip_address(host)],
        port=port,
        hostname="shellypro3em-c8f09e8a1b2c.local.",
        type="_shelly._tcp.local.",
        name="shellypro3em-c8f09e8a1b2c._shelly._tcp.local.",
        properties={"gen": "2"},
    )


async def test_zeroconf_confirm_then_update_host(hass: HomeAssistant, clock: SimClock) -> None:
    """A Shelly announces itself: confirm adds it; announcing again updates the host."""
    shelly = ShellyPro3EMSimulator(clock)
    await shelly.start()
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(shelly.port)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "discovery_confirm"
        assert result["description_placeholders"] == {
            "name": "Shelly Pro 3EM",  # the model's name, not its code SPEM-003CEBEU
            "host": "127.0.0.1",
        }
        result = await _configure(hass, result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry: ConfigEntry = result["result"]
        assert entry.title == "Shelly Pro 3EM"
        assert entry.unique_id == "C8F09E8A1B2C"
        assert entry.data[CONF_DRIVER] == "shelly_pro3em"
        assert await hass.config_entries.async_unload(entry.entry_id)
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_HOST: "192.0.2.7"})
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(shelly.port)
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        assert entry.data[CONF_HOST] == "127.0.0.1"
    finally:
        await shelly.stop()


async def test_zeroconf_unsupported(hass: HomeAssistant) -> None:
    """An announcement from something that is no supported device is ignored."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=_zeroconf(_closed_port())
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unsupported_device"


async def _reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "reconfigure"
    return dict(result)


async def test_reconfigure(
    hass: HomeAssistant,
    wallbox: VestelEVC04,
    other_wallbox: VestelEVC04,
    add_device: AddDevice,
) -> None:
    """Unreachable address: error; another device: abort; the same device: updated."""
    entry = await add_device(wallbox)
    result = await _reconfigure(hass, entry)
    result = await _configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: _closed_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await _configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other_wallbox.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_device"
    assert entry.data[CONF_PORT] == wallbox.port

    # The wallbox moved to another port (e.g. after a firmware update): same serial.
    port = wallbox.port
    await wallbox.stop()
    moved = VestelEVC04(wallbox.clock)
    await moved.start()
    try:
        result = await _reconfigure(hass, entry)
        result = await _configure(
            hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: moved.port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data[CONF_PORT] == moved.port != port
        assert entry.state.value == "loaded"
        assert hass.states.get("sensor.vestel_evc04_energy").state == "1234.5"
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await moved.stop()


def _vestel_profile(extra_values: int) -> str:
    """The shipped EVC04 profile as a user's own, with `extra_values` more values.

    The extra values all read the charging-state register, which the device answers, so
    a profile of any size still identifies the simulated wallbox.
    """
    text = (PROFILES / "profiles" / "vestel_evc04.yaml").read_text()
    text = text.replace("id: vestel_evc04", "id: my_vestel")
    extra = "".join(
        f"  extra_{i}: {{address: 1001, type: u16, same_register_as: charging_state}}\n"
        for i in range(extra_values)
    )
    return text.replace("values:\n", "values:\n" + extra, 1)


async def _custom_profile_step(hass: HomeAssistant, port: int) -> dict[str, Any]:
    result = await _manual(hass)
    result = await _configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_DRIVER: "custom"}
    )
    assert result["step_id"] == "custom_profile"
    return result


async def test_custom_profile_too_large_then_valid(
    hass: HomeAssistant, wallbox: VestelEVC04
) -> None:
    """A 25 000-value profile is refused by its size, with a translated error; then one fits."""
    huge = _vestel_profile(25_000)
    size = len(huge.encode())
    assert size > 256 * 1024
    result = await _custom_profile_step(hass, wallbox.port)
    result = await _configure(hass, result["flow_id"], {CONF_PROFILE_YAML: huge})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PROFILE_YAML: "profile_too_large"}
    placeholders = result["description_placeholders"]
    assert placeholders["max_kb"] == "256"
    assert placeholders["size_kb"] == str(-(-size // 1024))
    for language, expected in (("en", "at most 256 KB"), ("de", "höchstens 256 KB")):
        translations = await async_get_translations(hass, language, "config", [DOMAIN])
        text = translations[f"component.{DOMAIN}.config.error.profile_too_large"]
        assert expected in text.format(**placeholders), text
    assert hass.config_entries.async_entries(DOMAIN) == []

    small = _vestel_profile(0)
    result = await _configure(hass, result["flow_id"], {CONF_PROFILE_YAML: small})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].state is ConfigEntryState.LOADED
    await _unload_all(hass)


async def test_large_profile_is_parsed_off_the_loop(
    hass: HomeAssistant, wallbox: VestelEVC04
) -> None:
    """A profile just under the limit: parsed once in the flow and once at setup, each in an
    executor thread, and the event loop never stalls meanwhile.

    A spy wraps the parser to record the thread it runs in (nothing is replaced); a probe
    task measures the longest gap between its 10 ms sleeps in the loop thread's CPU time:
    work done on the loop, not the time a busy machine gave to other processes.
    """
    text = _vestel_profile(3_000)
    assert 200 * 1024 < len(text.encode()) <= 256 * 1024
    threads: list[int] = []
    real_parse = profile_module.parse_profile

    def spy(document: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real_parse(document, **kwargs)

    longest = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal longest
        while not done.is_set():
            before = time.thread_time()
            await asyncio.sleep(0.01)
            longest = max(longest, time.thread_time() - before)

    result = await _custom_profile_step(hass, wallbox.port)
    task = asyncio.create_task(probe())
    with patch.object(profile_module, "parse_profile", spy):
        result = await _configure(hass, result["flow_id"], {CONF_PROFILE_YAML: text})
        # The 3000 extra values have names no entity shows: warned, then added anyway.
        assert result["step_id"] == "custom_profile_unused"
        result = await _configure(hass, result["flow_id"], {"next_step_id": "custom_profile_add"})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry: ConfigEntry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
    done.set()
    await task
    loop_thread = threading.get_ident()
    # Parsed on the loop this profile stalls it for 0.8 s here; Home Assistant's own setup
    # of the entry's platforms takes up to 0.15 s on this shared machine.
    assert longest < 0.4, f"the event loop stalled for {longest:.3f} s"
    assert len(threads) == 2  # once to validate in the flow, once to set up
    assert loop_thread not in threads
    assert hass.states.get("sensor.vestel_evc04_energy").state == "1234.5"
    await _unload_all(hass)


def _ledger(config: dict[str, Any], slug: str = "a0d7b954_ev_charging_ledger") -> Any:
    return HassioServiceInfo(config=config, name="EV Charging Ledger", slug=slug, uuid="1234")


async def test_hassio_discovery_links_the_ledger_once(hass: HomeAssistant) -> None:
    """The add-on's announcement offers to link the ledger; linking makes one entry whose
    device opens the ledger's panel; announcing again only updates the address."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_HASSIO},
        data=_ledger({"host": "a0d7b954-ev-charging-ledger", "port": 8099}),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    translations = await async_get_translations(hass, "en", "config", [DOMAIN])
    assert translations[f"component.{DOMAIN}.config.step.hassio_confirm.description"]
    result = await _configure(hass, result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry: ConfigEntry = result["result"]
    assert entry.title == "EV Charging Ledger"
    assert entry.unique_id == "a0d7b954_ev_charging_ledger"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data == {
        "role": "ledger",
        "addon": "a0d7b954_ev_charging_ledger",
        CONF_HOST: "a0d7b954-ev-charging-ledger",
        CONF_PORT: 8099,
    }
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.configuration_url for device in devices] == [
        "homeassistant://hassio/ingress/a0d7b954_ev_charging_ledger"
    ]
    assert not hass.config_entries.flow.async_progress()  # no charger form was offered
    # The ledger has no options and no address to change by hand.
    assert not EVChargingConfigFlow.async_supports_options_flow(entry)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ledger_not_reconfigurable"

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_HASSIO},
        data=_ledger({"host": "ev-charging-ledger-2", "port": 8099}),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "ev-charging-ledger-2"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    "config",
    [{}, {"host": "ledger"}, {"host": "", "port": 8099}, {"host": "ledger", "port": "x"}],
)
async def test_hassio_discovery_without_address(
    hass: HomeAssistant, config: dict[str, Any]
) -> None:
    """An announcement without a usable host and port is refused with a translated reason."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_ledger(config)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"
    translations = await async_get_translations(hass, "de", "config", [DOMAIN])
    assert translations[f"component.{DOMAIN}.config.abort.invalid_discovery_info"]
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_stored_profile_over_the_limit_keeps_working(
    hass: HomeAssistant, wallbox: VestelEVC04
) -> None:
    """An entry saved before the limit existed, with a larger profile, still sets up and
    reconfigures: the limit guards new profiles, and nothing a user has is lost."""
    text = _vestel_profile(8_000)
    assert len(text.encode()) > 256 * 1024
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Vestel EVC04",
        unique_id="VES2024000123",
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: wallbox.port,
            CONF_DRIVER: "my_vestel",
            CONF_PROFILE_YAML: text,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.vestel_evc04_energy").state == "1234.5"

    result = await _reconfigure(hass, entry)
    result = await _configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: wallbox.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PROFILE_YAML] == text
    assert entry.state is ConfigEntryState.LOADED
    await _unload_all(hass)
