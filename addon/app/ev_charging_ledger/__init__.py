"""EV Charging Ledger: a long-term, tamper-evident ledger of EV charging sessions.

The package runs inside the Home Assistant add-on and as a plain Python process
(``python -m ev_charging_ledger``). Its storage API (:class:`Ledger`) is what the web
UI and the report generator build on.
"""

from .storage import Ledger

__all__ = ["Ledger", "__version__"]

__version__ = "0.1.0"
