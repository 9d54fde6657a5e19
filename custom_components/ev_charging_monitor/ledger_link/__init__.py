"""The link to the EV Charging Ledger: the session outbox (seq) and its websocket API."""
