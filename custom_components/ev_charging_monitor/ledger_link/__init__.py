"""The link to the EV Charging Ledger: the session outbox (seq) and its websocket API
(history, websocket_api), the contract both sides check (contract) and the config entry
that links the ledger add-on (entry)."""
