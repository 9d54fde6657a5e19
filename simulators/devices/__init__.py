"""The simulated devices, one module each."""
