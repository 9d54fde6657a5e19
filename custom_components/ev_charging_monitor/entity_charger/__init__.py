"""A charger made of another integration's entities (Easee, Zaptec, Wallbox, evcc, ...).

The mapping (mapping.py) says which entity stands for the plug state, power, energy and the
controls; presets.json proposes it for integrations we know. device.py reads the mapped
states as one Reading and turns commands into service calls, so the sessions, pricing,
authorization and the ledger link treat it like any built-in driver; coordinator.py takes a
reading whenever a mapped entity changes state.
"""
