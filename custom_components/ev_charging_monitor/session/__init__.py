"""Charging sessions: tracking from meter registers, tariffs and cost, history."""
