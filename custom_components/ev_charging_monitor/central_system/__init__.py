"""The OCPP central system: chargers connect to Home Assistant over OCPP-J 1.6.

The charger is the websocket client; the server runs while the central-system entry is
loaded. Each accepted charger is a charger entry like any other: its readings come from
the messages it sends and pass the same plausibility, sessions, pricing and authorization.
"""
