"""The link to the EV Charging Ledger: the session outbox (seq), its websocket API, the
contract both sides check, and the config entry that links the ledger add-on."""

from .entry import (
    CONF_ADDON,
    LEDGER_NAME,
    ROLE_LEDGER,
    async_setup_ledger_entry,
    is_ledger_entry,
    ledger_entry_data,
    ledger_panel_url,
)

__all__ = [
    "CONF_ADDON",
    "LEDGER_NAME",
    "ROLE_LEDGER",
    "async_setup_ledger_entry",
    "is_ledger_entry",
    "ledger_entry_data",
    "ledger_panel_url",
]
