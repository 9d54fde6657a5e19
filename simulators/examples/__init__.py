"""Simulators of devices the product does not ship, for the user-profile worked examples.

Kept apart from simulators/devices/ (the shipped devices, which every device test and the
detection test iterate over): these are reached only through a profile a user supplies.
"""
