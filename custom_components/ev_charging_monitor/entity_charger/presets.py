"""Propose a mapping from a device's entities: by preset where the integration is known,
by device class, unit and name where it is not (Home Assistant-free).

An entity matches a preset's "domain:key" when its domain is `domain` and its translation
key is `key`, or its unique id or entity id ends with `key` (after "_", "-" or ".").
Matching is by what the integration named the entity, not by the entity id alone, since
users rename entities.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from .mapping import MEANINGS, NO_DATA, PLUG, EntityMapping, normalize_word

PRESETS_FILE: Final = Path(__file__).with_name("presets.json")
ROLES: Final = (
    "status",
    "plug",
    "charging",
    "power",
    "energy",
    "session_energy",
    "current_l1",
    "current_l2",
    "current_l3",
    "rfid",
    "enable",
    "limit",
)
# Words many integrations share; a word that means A for one vendor and B for another
# ("ready", "available", "idle") is left to the user.
COMMON_WORDS: Final = {
    "a": "A",
    "b": "B",
    "c": "C",
    "d": "D",
    "e": "E",
    "f": "F",
    "disconnected": "A",
    "not_connected": "A",
    "not connected": "A",
    "unplugged": "A",
    "no_vehicle": "A",
    "connected": "B",
    "plugged": "B",
    "plugged_in": "B",
    "paused": "B",
    "suspended": "B",
    "charging": "C",
    "error": "F",
    "fault": "F",
    "unknown": NO_DATA,
}
_LIFETIME = re.compile(r"total|lifetime|meter|usage|import|eto|counter")
_SESSION = re.compile(r"session|added|charged|since")
_PHASES = (
    re.compile(r"(l1|phase_?1|_a_a)\b"),
    re.compile(r"(l2|phase_?2|_b_a)\b"),
    re.compile(r"(l3|phase_?3|_c_a)\b"),
)


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One entity of the device, as the registry and the state machine describe it."""

    entity_id: str
    platform: str
    unique_id: str = ""
    translation_key: str | None = None
    device_class: str | None = None
    unit: str | None = None
    state_class: str | None = None
    options: tuple[str, ...] = ()  # an enum sensor's or a select's options

    @property
    def domain(self) -> str:
        """The entity's domain (sensor, switch, ...)."""
        return self.entity_id.partition(".")[0]

    @property
    def object_id(self) -> str:
        """The entity id after the domain."""
        return self.entity_id.partition(".")[2]

    def matches(self, domain: str, key: str) -> bool:
        """Whether the integration named this entity `key`."""
        if domain != self.domain:
            return False
        if self.translation_key == key:
            return True
        return any(
            name == key or re.search(rf"[_.\-]{re.escape(key)}$", name) is not None
            for name in (self.unique_id, self.object_id)
            if name
        )


@dataclass(frozen=True)
class Preset:
    """What we know about one integration's chargers."""

    id: str
    name: str
    platforms: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]
    states: dict[str, str]
    rfid_idle: tuple[str, ...] = ()
    enable_options: tuple[str, str] | None = None  # (on, off) of a select
    limit_action: dict[str, Any] | None = None


def parse_presets(data: dict[str, Any]) -> dict[str, Preset]:
    """The presets table; an invalid entry raises ValueError (a defect of the shipped file)."""
    presets: dict[str, Preset] = {}
    for preset_id, item in data.items():
        if preset_id.startswith("_"):
            continue
        roles = {role: tuple(keys) for role, keys in item["roles"].items()}
        if unknown := set(roles) - set(ROLES):
            raise ValueError(f"preset {preset_id}: unknown roles {sorted(unknown)}")
        states = {normalize_word(word): meaning for word, meaning in item["states"].items()}
        if bad := {m for m in states.values() if m not in MEANINGS}:
            raise ValueError(f"preset {preset_id}: unknown meanings {sorted(bad)}")
        options = item.get("enable_options")
        presets[preset_id] = Preset(
            id=preset_id,
            name=item["name"],
            platforms=tuple(item.get("platforms", [preset_id])),
            roles=roles,
            states=states,
            rfid_idle=tuple(item.get("rfid_idle", ())),
            enable_options=None if options is None else (options["on"], options["off"]),
            limit_action=item.get("limit_action"),
        )
    return presets


@cache
def load_presets() -> dict[str, Preset]:
    """The shipped presets (reads a file: call it off the event loop once)."""
    data: dict[str, Any] = json.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    return parse_presets(data)


def preset_for(presets: dict[str, Preset], platform: str) -> Preset | None:
    """The preset of the integration `platform`, if there is one."""
    return next((p for p in presets.values() if platform in p.platforms), None)


def _by_preset(preset: Preset, candidates: list[Candidate]) -> dict[str, Candidate]:
    chosen: dict[str, Candidate] = {}
    used: set[str] = set()
    for role, keys in preset.roles.items():
        for spec in keys:
            domain, _, key = spec.partition(":")
            found = next(
                (c for c in candidates if c.entity_id not in used and c.matches(domain, key)),
                None,
            )
            if found is not None:
                chosen[role] = found
                used.add(found.entity_id)
                break
    return chosen


def _name(candidate: Candidate) -> str:
    return f"{candidate.translation_key or ''} {candidate.unique_id} {candidate.object_id}".lower()


def _generic(candidates: list[Candidate], taken: set[str]) -> dict[str, Candidate]:
    """Roles found by device class, unit and name, for what no preset named."""
    free = [c for c in candidates if c.entity_id not in taken]

    def first(test: Any) -> Candidate | None:
        return next((c for c in free if test(c)), None)

    found: dict[str, Candidate | None] = {
        "plug": first(lambda c: c.domain == "binary_sensor" and c.device_class == "plug"),
        "charging": first(
            lambda c: c.domain == "binary_sensor" and c.device_class == "battery_charging"
        ),
        "status": first(
            lambda c: (
                c.domain == "sensor"
                and (c.device_class == "enum" or c.unit is None)
                and re.search(r"status|state|mode", _name(c)) is not None
            )
        ),
        "power": first(
            lambda c: (
                c.domain == "sensor"
                and c.device_class == "power"
                and re.search(r"max|avail|limit", _name(c)) is None
            )
        ),
    }
    energies = [c for c in free if c.domain == "sensor" and c.device_class == "energy"]
    session = next((c for c in energies if _SESSION.search(_name(c))), None)
    lifetime = next((c for c in energies if c is not session and _LIFETIME.search(_name(c))), None)
    found["energy"] = lifetime or next((c for c in energies if c is not session), session)
    found["session_energy"] = session if session is not found["energy"] else None
    currents = [c for c in free if c.domain == "sensor" and c.device_class == "current"]
    for index, pattern in enumerate(_PHASES):
        found[f"current_l{index + 1}"] = next(
            (c for c in currents if pattern.search(_name(c)) is not None), None
        )
    found["enable"] = first(
        lambda c: c.domain == "switch" and re.search(r"charg|enable|pause", _name(c)) is not None
    )
    found["limit"] = first(
        lambda c: (
            c.domain == "number"
            and (c.device_class == "current" or c.unit == "A")
            and re.search(r"min", _name(c)) is None
        )
    )
    found["rfid"] = first(
        lambda c: c.domain == "sensor" and re.search(r"rfid|tag|card|token", _name(c)) is not None
    )
    return {role: c for role, c in found.items() if c is not None}


def propose(
    presets: dict[str, Preset],
    candidates: list[Candidate],
    *,
    device_id: str | None = None,
    words: tuple[str, ...] = (),
) -> EntityMapping:
    """The mapping the flow shows the user to confirm.

    `words` are further state words of the status entity (its present state); an enum
    sensor's options are added from its candidate.
    """
    platforms = [c.platform for c in candidates]
    preset = next(
        (p for platform in platforms if (p := preset_for(presets, platform)) is not None), None
    )
    chosen = {} if preset is None else _by_preset(preset, candidates)
    taken = {c.entity_id for c in chosen.values()}
    for role, candidate in _generic(candidates, taken).items():
        if role not in chosen and candidate.entity_id not in taken:
            chosen[role] = candidate
            taken.add(candidate.entity_id)
    status = chosen.get("status")
    known = COMMON_WORDS | ({} if preset is None else preset.states)
    states: dict[str, str] = {}
    if status is not None and status.domain == "sensor":
        for word in (*status.options, *words):
            key = normalize_word(word)
            states[key] = known.get(key, PLUG if "plug" in chosen else NO_DATA)
        if preset is not None:
            states = {**preset.states, **states}
    currents = tuple(
        chosen[f"current_l{n}"].entity_id for n in (1, 2, 3) if f"current_l{n}" in chosen
    )
    enable = chosen.get("enable")
    on = off = None
    if enable is not None and enable.domain == "select" and preset and preset.enable_options:
        on, off = preset.enable_options
    action = None if preset is None or "limit" in chosen else preset.limit_action

    def entity(role: str) -> str | None:
        candidate = chosen.get(role)
        return None if candidate is None else candidate.entity_id

    return EntityMapping(
        status=entity("status"),
        states=states,
        plug=entity("plug"),
        charging=entity("charging"),
        power=entity("power"),
        energy=entity("energy") or "",
        session_energy=entity("session_energy"),
        currents=currents,
        rfid=entity("rfid"),
        rfid_idle=() if preset is None else preset.rfid_idle,
        enable=entity("enable") if enable is None or enable.domain != "select" or on else None,
        enable_on=on,
        enable_off=off,
        limit=entity("limit"),
        limit_action=None if action is None else action["action"],
        limit_field="current" if action is None else action.get("field", "current"),
        limit_data={} if action is None else dict(action.get("data", {})),
        device_id=device_id,
        preset=None if preset is None else preset.id,
    )
