"""Pricing: tariffs, price points and the cost of a session per price interval."""
