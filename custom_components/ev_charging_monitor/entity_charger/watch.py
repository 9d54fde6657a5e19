"""Follow the source entities in the entity registry: renames are followed, losses repaired.

A renamed entity keeps working: the mapping takes the new id, the entry reloads, and a
repair tells the administrator which entity the charger reads now (confirming it closes
the repair). A removed entity, or one that does not exist once Home Assistant has
started, raises a repair that asks to reconfigure the charger; it goes when the entity
comes back or the charger is reconfigured.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN, LOGGER
from ..coordinator import EVChargingConfigEntry
from .mapping import CONF_MAPPING, EntityMapping

ISSUE_RENAMED: Final = "source_entity_renamed"
ISSUE_MISSING: Final = "source_entity_missing"


def issue_id(kind: str, entry: EVChargingConfigEntry, entity_id: str = "") -> str:
    """One issue per kind, entry and (for renames) entity."""
    return f"{kind}_{entry.entry_id}{'_' + entity_id if entity_id else ''}"


@callback
def async_missing(hass: HomeAssistant, mapping: EntityMapping) -> list[str]:
    """The mapped entities that neither the registry nor the state machine knows."""
    registry = er.async_get(hass)
    return [
        entity_id
        for entity_id in mapping.entities
        if registry.async_get(entity_id) is None and hass.states.get(entity_id) is None
    ]


@callback
def _report_missing(hass: HomeAssistant, entry: EVChargingConfigEntry, missing: list[str]) -> None:
    if not missing:
        ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_MISSING, entry))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_MISSING, entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_MISSING,
        translation_placeholders={"name": entry.title, "entities": ", ".join(missing)},
    )


@callback
def async_watch_sources(hass: HomeAssistant, entry: EVChargingConfigEntry) -> CALLBACK_TYPE:
    """Watch the registry for the entry's source entities; return the unsubscribe."""

    def mapping() -> EntityMapping:
        return EntityMapping.from_dict(entry.data[CONF_MAPPING])

    waiting: list[CALLBACK_TYPE] = []

    @callback
    def check(_event: Event | None = None) -> None:
        waiting.clear()  # a once-listener that ran must not be removed again
        _report_missing(hass, entry, async_missing(hass, mapping()))

    @callback
    def registry_updated(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        current = mapping()
        if data["action"] == "remove" and data["entity_id"] in current.entities:
            LOGGER.warning("%s: its source entity %s was removed", entry.title, data["entity_id"])
            _report_missing(hass, entry, [data["entity_id"]])
            return
        if data["action"] == "create" and data["entity_id"] in current.entities:
            check()  # back again (the other integration set up anew)
            return
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        old, new = data["old_entity_id"], data["entity_id"]
        if old not in current.entities:
            return
        LOGGER.info("%s: its source entity %s is now %s", entry.title, old, new)
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_MAPPING: current.renamed(old, new).as_dict()}
        )
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(ISSUE_RENAMED, entry, new),
            is_fixable=True,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_RENAMED,
            translation_placeholders={"name": entry.title, "old": old, "new": new},
            data={"confirm_only": True},
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    cancel = hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, registry_updated)
    if hass.is_running:
        check()
    else:
        waiting.append(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, check))

    @callback
    def stop() -> None:
        cancel()
        for remove in waiting:
            remove()

    return stop
