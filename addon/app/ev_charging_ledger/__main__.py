"""``python -m ev_charging_ledger``."""

import sys

from .cli import main

sys.exit(main())
