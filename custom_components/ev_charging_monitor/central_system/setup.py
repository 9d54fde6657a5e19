"""What the integration's setup calls for the central system and for OCPP chargers."""

from __future__ import annotations

import ssl
import time
from datetime import datetime
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from ..authorization.manager import AUTHORIZATION
from ..authorization.model import AuthorizationMode, CredentialKind
from ..authorization.subentries import CONF_ROLE
from ..const import CONF_DRIVER, DOMAIN, LOGGER
from ..coordinator import EVChargingConfigEntry
from ..devices.base import Device
from ..session.manager import ChargerSessions
from .charger import BootInfo, OcppCharger
from .const import (
    CONF_CERTIFICATE,
    CONF_CHARGE_POINT_ID,
    CONF_FIRMWARE,
    CONF_METER_SERIAL,
    CONF_METER_TYPE,
    CONF_MODEL,
    CONF_PRIVATE_KEY,
    CONF_SERIAL,
    CONF_VENDOR,
    DRIVER_OCPP,
    ROLE_CENTRAL_SYSTEM,
)
from .control_setup import async_attach_control
from .coordinator import OcppLiveCoordinator
from .device import OcppDevice
from .late_authorization import STATUS, async_decide_late
from .quirks import quirks_for
from .registry import async_get_registry
from .server import CentralSystemServer
from .signed_store import async_attach_signed, attach_late_signed
from .tls import tls_context

SERVERS: HassKey[dict[str, CentralSystemServer]] = HassKey(f"{DOMAIN}_ocpp_servers")
EVENT_CHARGER_FAULT: Final = f"{DOMAIN}_charger_fault"
# Seconds within which an accepted tag presented again (Authorize, then StartTransaction)
# is not decided and announced a second time.
REPEAT_S: Final = 120


def is_central_system_entry(entry: ConfigEntry[Any]) -> bool:
    """Whether the entry runs the OCPP server (not a charger)."""
    return entry.data.get(CONF_ROLE) == ROLE_CENTRAL_SYSTEM


def is_ocpp_charger(entry: ConfigEntry[Any]) -> bool:
    """Whether the entry is a charger connected over OCPP."""
    return entry.data.get(CONF_DRIVER) == DRIVER_OCPP


async def async_setup_central_system_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Listen for chargers on the entry's port."""
    registry = await async_get_registry(hass)
    ssl_context = None
    if (certificate := entry.data.get(CONF_CERTIFICATE)) is not None:
        try:
            ssl_context = await hass.async_add_executor_job(
                tls_context, certificate, entry.data[CONF_PRIVATE_KEY]
            )
        except (OSError, ssl.SSLError) as err:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="ocpp_certificate_invalid",
                translation_placeholders={"error": str(err)},
            ) from err
    server = CentralSystemServer(hass, registry, "0.0.0.0", int(entry.data[CONF_PORT]), ssl_context)
    try:
        await server.async_start()
    except OSError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="ocpp_port_in_use",
            translation_placeholders={"port": str(entry.data[CONF_PORT]), "error": str(err)},
        ) from err
    hass.data.setdefault(SERVERS, {})[entry.entry_id] = server
    return True


async def async_unload_central_system_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Close the port and every charger's connection."""
    if (server := hass.data.get(SERVERS, {}).pop(entry.entry_id, None)) is not None:
        await server.async_stop()
    return True


def create_ocpp_device(
    entry: ConfigEntry[Any], *, resume_current_a: float | None = None
) -> OcppDevice:
    """The device of an OCPP charger's entry (attached by `async_attach_ocpp_charger`).

    `resume_current_a` is the current limit the user set last.
    """
    data = entry.data
    boot = BootInfo(
        vendor=data[CONF_VENDOR],
        model=data[CONF_MODEL],
        serial=data.get(CONF_SERIAL),
        firmware=data.get(CONF_FIRMWARE),
        meter_serial=data.get(CONF_METER_SERIAL),
        meter_type=data.get(CONF_METER_TYPE),
    )
    charger = OcppCharger(data[CONF_CHARGE_POINT_ID], authorize=_refuse, on_update=lambda: None)
    charger.quirks = quirks_for(boot.vendor, boot.model)
    return OcppDevice(charger, boot, resume_current_a=resume_current_a)


async def _refuse(_id_tag: str) -> str:
    return "Invalid"


def _inner(device: Device) -> OcppDevice:
    """The OCPP device, also behind authorization's guard."""
    inner = getattr(device, "inner", device)
    assert isinstance(inner, OcppDevice)
    return inner


async def async_attach_ocpp_charger(
    hass: HomeAssistant,
    entry: EVChargingConfigEntry,
    device: Device,
    live: OcppLiveCoordinator,
    sessions: ChargerSessions | None,
) -> None:
    """From now on the charger's messages reach its readings and its id tags are decided."""
    charger = _inner(device).charger
    registry = await async_get_registry(hass)

    recent: dict[str, tuple[float, str]] = {}

    async def authorize(id_tag: str) -> str:
        if charger.is_remote_start(id_tag):
            # Our own remote start: who charges was decided before it was sent.
            return "Accepted"
        # Authorize and the StartTransaction after it carry the same tag: one decision.
        if (seen := recent.get(id_tag)) is not None and time.monotonic() - seen[0] < REPEAT_S:
            return seen[1]
        status = await decide(id_tag)
        recent.clear()
        if status == "Accepted":
            # A refused card is decided afresh: the administrator may add it in a moment.
            recent[id_tag] = (time.monotonic(), status)
        return status

    async def decide(id_tag: str) -> str:
        manager = hass.data[AUTHORIZATION]
        authorization = manager.chargers.get(entry.entry_id)
        if authorization is None:
            return "Invalid"
        key = manager.hash(CredentialKind.RFID, id_tag)
        decision = await manager.async_attempt(authorization, CredentialKind.RFID, key, uid=id_tag)
        if authorization.mode is AuthorizationMode.FREE:
            # Authorization is not required here: the card is only recorded.
            return "Accepted"
        return STATUS[decision.result]

    charger.authorize = authorize

    async def authorize_late(id_tag: str) -> tuple[str, dict[str, Any] | None]:
        if charger.is_remote_start(id_tag):
            return "Accepted", charger.attribution()
        return await async_decide_late(hass, entry.entry_id, id_tag)

    charger.authorize_late = authorize_late

    def connector_refused(connector_id: int) -> None:
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"ocpp_connector_refused_{entry.entry_id}_{connector_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="ocpp_connector_refused",
            translation_placeholders={"name": entry.title, "connector": str(connector_id)},
        )

    charger.on_connector_refused = connector_refused

    def fault(details: dict[str, Any]) -> None:
        LOGGER.warning("%s reports a fault: %s", entry.title, details["error_code"])
        hass.bus.async_fire(EVENT_CHARGER_FAULT, {"entry_id": entry.entry_id, **details})

    charger.on_fault = fault
    if sessions is not None:
        sessions.signed_values_fn = charger.take_signed
        sessions.meter_identity_fn = _inner(device).meter_identity
        charger.record_late = sessions.async_record_late
        charger.late_session_id = sessions.late_session_id

        def flag_session(flag: str) -> None:
            if (active := sessions.active) is not None:
                active.flag(flag)

        charger.flag_session = flag_session

        def active_session() -> tuple[str, datetime] | None:
            active = sessions.active
            return None if active is None else (active.id, active.started_at)

        charger.active_session = active_session
        charger.on_new_transaction = sessions.tracker.release_hold

    def attribution() -> dict[str, Any] | None:
        # Whom the tag just decided names, kept with its transaction for a late record.
        manager = hass.data.get(AUTHORIZATION)
        authorization = None if manager is None else manager.chargers.get(entry.entry_id)
        return None if authorization is None else authorization.attribution()

    charger.attribution = attribution
    charger.on_update = live.async_push
    await async_attach_control(hass, entry, _inner(device), registry)
    await async_attach_signed(hass, entry, charger)
    attach_late_signed(entry, charger, sessions)
    registry.async_register(charger)
    entry.async_on_unload(lambda: registry.async_unregister(charger))
