"""The simulators by name, found in simulators/devices/ (one module per device)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from . import devices
from .base import Simulator


def simulators() -> dict[str, type[Simulator]]:
    """Every concrete simulator class, by its name."""
    found: dict[str, type[Simulator]] = {}
    for module_info in pkgutil.iter_modules(devices.__path__):
        module = importlib.import_module(f"{devices.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Simulator)
                and not inspect.isabstract(cls)
                and cls.__module__ == module.__name__
            ):
                found[cls.name] = cls
    return found
