"""Constants of the EV Charging Monitor integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

DOMAIN: Final = "ev_charging_monitor"
LOGGER = logging.getLogger(__package__)

CONF_DRIVER: Final = "driver"
CONF_UNIT: Final = "unit"
CONF_PROFILE_YAML: Final = "profile_yaml"
CONF_SCAN_INTERVAL: Final = "scan_interval"

DRIVER_AUTO: Final = "auto"
DRIVER_CUSTOM: Final = "custom"

DEFAULT_SCAN_INTERVAL: Final = 5
IDENTITY_INTERVAL: Final = timedelta(hours=1)
