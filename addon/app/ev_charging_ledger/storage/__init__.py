"""SQLite storage of the ledger: schema, hash chain and the :class:`Ledger` API."""

from .chain import ChainProblem, ChainReport
from .ledger import ADJUSTMENT_KINDS, Ledger, LedgerError, NotFoundError
from .models import (
    Adjustment,
    AppendResult,
    MonthTotal,
    Person,
    SessionDetail,
    SessionFilter,
    SessionPage,
    SessionSummary,
    Statement,
    StatementRow,
    Vehicle,
)

__all__ = [
    "ADJUSTMENT_KINDS",
    "Adjustment",
    "AppendResult",
    "ChainProblem",
    "ChainReport",
    "Ledger",
    "LedgerError",
    "MonthTotal",
    "NotFoundError",
    "Person",
    "SessionDetail",
    "SessionFilter",
    "SessionPage",
    "SessionSummary",
    "Statement",
    "StatementRow",
    "Vehicle",
]
