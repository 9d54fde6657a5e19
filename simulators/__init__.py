"""Simulated wallboxes and meters that speak the devices' real protocols.

Each simulator is written from the manufacturers' register maps (../shared/reference/
devices.md), independently of the integration's profiles, so that a wrong address, word
order or scale in a profile fails a test instead of being mirrored here.
"""
