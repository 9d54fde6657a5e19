"""Names the central system's entries, flows and messages share."""

from __future__ import annotations

from typing import Final

ROLE_CENTRAL_SYSTEM: Final = "ocpp_central_system"
DRIVER_OCPP: Final = "ocpp16"
CONF_CHARGE_POINT_ID: Final = "charge_point_id"
CONF_VENDOR: Final = "vendor"
CONF_MODEL: Final = "model"
CONF_SERIAL: Final = "serial"
CONF_FIRMWARE: Final = "firmware"
CONF_METER_SERIAL: Final = "meter_serial"
CONF_METER_TYPE: Final = "meter_type"
CONF_CERTIFICATE: Final = "certificate"
CONF_PRIVATE_KEY: Final = "private_key"
DEFAULT_PORT: Final = 9000
SUBPROTOCOL: Final = "ocpp1.6"
SUBPROTOCOL_201: Final = "ocpp2.0.1"
# The OCPP-J subprotocols the central system speaks (the charger's order of preference wins).
SUBPROTOCOLS: Final = (SUBPROTOCOL_201, SUBPROTOCOL)
# Seconds between heartbeats an accepted charger is told to keep.
HEARTBEAT_INTERVAL_S: Final = 300
# Seconds a charger waits for acceptance before it boots again (it is also triggered).
PENDING_INTERVAL_S: Final = 60
# The meter's public key the user entered (options of an OCPP charger's entry).
CONF_METER_PUBLIC_KEY: Final = "meter_public_key"
