"""A standalone ledger announces itself; once linked it is in Home Assistant's sidebar.

A real Home Assistant with its frontend, and the real ledger process: the ledger's
announcement over the websocket API (`ev_charging_monitor/link_ledger`) offers a
discovered entry, confirming it adds an iframe panel that every user sees (`get_panels`),
a new address moves it, unloading removes it.
The add-on's link (Supervisor discovery) adds no panel: the add-on has its ingress panel.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_HASSIO, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ev_charging_monitor.const import DOMAIN
from tests.ledger.ledger_process import free_port, start_ledger, stop

PANEL = "ev-charging-ledger"


@pytest.fixture
async def set_up(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()


async def _command(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json_auto_id(message)
    reply: dict[str, Any] = await ws.receive_json()
    return reply


async def _panels(ws: Any) -> dict[str, Any]:
    reply = await _command(ws, {"type": "get_panels"})
    assert reply["success"], reply
    panels: dict[str, Any] = reply["result"]
    return panels


async def test_announced_ledger_is_linked_and_in_the_sidebar(
    hass: HomeAssistant, set_up: None, hass_ws_client: WebSocketGenerator
) -> None:
    ws = await hass_ws_client(hass)
    reply = await _command(ws, {"type": f"{DOMAIN}/link_ledger", "url": "http://127.0.0.1:8099/"})
    assert reply["success"], reply
    assert reply["result"] == {"linked": False}
    await hass.async_block_till_done()
    # Nothing is linked until someone confirms the discovered ledger.
    assert PANEL not in await _panels(ws)
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["step_id"] == "ledger_confirm"
    assert flow["context"]["title_placeholders"] == {"name": "EV Charging Ledger"}
    translations = await async_get_translations(hass, "de", "config", [DOMAIN])
    assert "{url}" in translations[f"component.{DOMAIN}.config.step.ledger_confirm.description"]

    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data == {"role": "ledger", "url": "http://127.0.0.1:8099"}
    panel = (await _panels(ws))[PANEL]
    assert panel["component_name"] == "iframe"
    assert panel["title"] == "EV Charging Ledger"
    assert panel["icon"] == "mdi:book-open-variant"
    assert panel["config"] == {"url": "http://127.0.0.1:8099/"}
    assert panel["require_admin"] is False  # non-admins open it too; the ledger scopes them
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.configuration_url == "http://127.0.0.1:8099/"

    # The ledger moved: announcing the new address updates the link and the sidebar.
    reply = await _command(
        ws, {"type": f"{DOMAIN}/link_ledger", "url": "https://ledger.example:8443"}
    )
    assert reply["result"] == {"linked": True}
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.data["url"] == "https://ledger.example:8443"
    assert (await _panels(ws))[PANEL]["config"] == {"url": "https://ledger.example:8443/"}

    # Unloading the link takes the sidebar entry away; loading it again brings it back.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert PANEL not in await _panels(ws)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert PANEL in await _panels(ws)
    await hass.config_entries.async_remove(entry.entry_id)
    assert PANEL not in await _panels(ws)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ledger:8099",
        "javascript:alert(1)",
        "ftp://127.0.0.1/",
        "http://",
        "http://admin:secret@127.0.0.1:8099",
        "http://127.0.0.1:99999/",
        "http://" + "a" * 3000,
    ],
)
async def test_an_address_that_is_no_web_address_is_refused(
    hass: HomeAssistant, set_up: None, hass_ws_client: WebSocketGenerator, url: str
) -> None:
    ws = await hass_ws_client(hass)
    reply = await _command(ws, {"type": f"{DOMAIN}/link_ledger", "url": url})
    assert not reply["success"]
    assert reply["error"]["code"] == "invalid_format"
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert PANEL not in await _panels(ws)


async def test_a_discovery_without_a_web_address_aborts_with_a_reason(
    hass: HomeAssistant, set_up: None
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "integration_discovery"}, data={"url": "mailto:x@y"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_ledger_url"
    translations = await async_get_translations(hass, "de", "config", [DOMAIN])
    assert translations[f"component.{DOMAIN}.config.abort.invalid_ledger_url"]


async def test_only_an_administrator_links_a_ledger(
    hass: HomeAssistant,
    set_up: None,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    ws = await hass_ws_client(hass, hass_read_only_access_token)
    reply = await _command(ws, {"type": f"{DOMAIN}/link_ledger", "url": "http://127.0.0.1:1/"})
    assert not reply["success"]
    assert reply["error"]["code"] == "unauthorized"
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_the_add_on_has_its_own_panel_and_gets_no_second_one(
    hass: HomeAssistant, set_up: None, hass_ws_client: WebSocketGenerator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_HASSIO},
        data=HassioServiceInfo(
            config={"host": "a0d7b954-ev-charging-ledger", "port": 8099},
            name="EV Charging Ledger",
            slug="a0d7b954_ev_charging_ledger",
            uuid="1234",
        ),
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert PANEL not in await _panels(await hass_ws_client(hass))


async def test_the_real_ledger_announces_its_public_address(
    hass: HomeAssistant,
    set_up: None,
    aiohttp_client: Any,
    hass_access_token: str,
    hass_ws_client: WebSocketGenerator,
    tmp_path: Path,
) -> None:
    """The ledger process (standalone, --public-url) offers itself once it is connected;
    after the confirmation its address is in the sidebar."""
    client = await aiohttp_client(hass.http.app)
    url = f"http://127.0.0.1:{client.server.port}"
    port = free_port()
    process = await start_ledger(
        "--ha-url", url, "--token", hass_access_token, "--data-dir", str(tmp_path / "ledger"),
        "--listen", f"127.0.0.1:{port}", "--api-token", "test",
        "--public-url", f"http://localhost:{port}",
        log=tmp_path / "ledger.log",
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            # The flow starts from the ledger's websocket message; no event to wait on.
            while not (flows := hass.config_entries.flow.async_progress_by_handler(DOMAIN)):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        assert await stop(process) == 0
    (flow,) = flows
    assert flow["step_id"] == "ledger_confirm"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    panels = await _panels(await hass_ws_client(hass))
    assert panels[PANEL]["config"] == {"url": f"http://localhost:{port}/"}
