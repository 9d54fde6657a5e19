"""quality_scale.yaml records every rule; the brand images have the sizes HA asks for."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "ev_charging_monitor"

# Home Assistant's rules by tier (Bronze 20, Silver 10, Gold 21, Platinum 3).
RULES = {
    *["action-setup", "appropriate-polling", "brands", "common-modules", "config-flow"],
    *["config-flow-test-coverage", "dependency-transparency", "docs-actions", "docs-conditions"],
    *["docs-triggers", "docs-high-level-description", "docs-installation-instructions"],
    *["docs-removal-instructions", "entity-event-setup", "entity-unique-id", "has-entity-name"],
    *["runtime-data", "test-before-configure", "test-before-setup", "unique-config-entry"],
    *["action-exceptions", "config-entry-unloading", "docs-configuration-parameters"],
    *["docs-installation-parameters", "entity-unavailable", "integration-owner"],
    *["log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage"],
    *["devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update"],
    *["docs-examples", "docs-known-limitations", "docs-supported-devices"],
    *["docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices"],
    *["entity-category", "entity-device-class", "entity-disabled-by-default"],
    *["entity-translations", "exception-translations", "icon-translations"],
    *["reconfiguration-flow", "repair-issues", "stale-devices"],
    *["async-dependency", "inject-websession", "strict-typing"],
}


def test_every_rule_recorded() -> None:
    """Each rule is done, or exempt/todo with the reason."""
    assert len(RULES) == 54
    rules = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == RULES
    for rule, value in rules.items():
        if value == "done":
            continue
        assert value["status"] in {"exempt", "todo"}, rule
        assert len(value["comment"]) > 10, rule


def test_brand_images() -> None:
    """icon 256 and 512 square, logo 256 high and landscape, all PNG with transparency."""
    brand = COMPONENT / "brand"
    with Image.open(brand / "icon.png") as icon:
        assert (icon.format, icon.size, icon.mode) == ("PNG", (256, 256), "RGBA")
    with Image.open(brand / "icon@2x.png") as icon:
        assert (icon.format, icon.size) == ("PNG", (512, 512))
    with Image.open(brand / "logo.png") as logo:
        assert logo.format == "PNG"
        assert logo.size[1] == 256
        assert logo.size[0] > logo.size[1]
