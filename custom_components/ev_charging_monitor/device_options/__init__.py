"""Steps of a charger's or meter's options flow, by topic (options_flow.py puts them together)."""
