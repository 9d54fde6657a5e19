"""The current attribution of sessions in SQL: the stored person and vehicle, or those
of the latest reassignment. Lists, exports and the dashboard use it, so they agree with
the statements (which apply adjustments in Python, :class:`~.models.EffectiveState`).
"""

from __future__ import annotations

# A common table expression: the latest reassignment of every reassigned session.
MOVED_CTE = (
    "moved(session_id, person_id, vehicle_id) AS ("
    "SELECT a.session_id, json_extract(CAST(a.body AS TEXT), '$.data.person_id'), "
    "json_extract(CAST(a.body AS TEXT), '$.data.vehicle_id') FROM adjustments a "
    "WHERE a.kind = 'reassign' AND a.entry_no = (SELECT max(b.entry_no) FROM adjustments b "
    "WHERE b.session_id = a.session_id AND b.kind = 'reassign'))"
)


def effective(column: str) -> str:
    """SQL for the current ``person_id`` or ``vehicle_id`` of a sessions row (needs
    :data:`MOVED_CTE`)."""
    assert column in ("person_id", "vehicle_id")
    return (
        f"(CASE WHEN sessions.session_id IN (SELECT session_id FROM moved) THEN (SELECT "
        f"moved.{column} FROM moved WHERE moved.session_id = sessions.session_id) "
        f"ELSE sessions.{column} END)"
    )


def effective_is(column: str) -> str:
    """SQL condition: the current ``column`` of a sessions row equals the bound value
    (twice), written so the stored column's index still narrows the search."""
    assert column in ("person_id", "vehicle_id")
    return (
        f"((sessions.{column} = ? AND sessions.session_id NOT IN (SELECT session_id FROM moved))"
        f" OR sessions.session_id IN (SELECT session_id FROM moved WHERE {column} = ?))"
    )


# Session summaries (as in sessions.SUMMARY_SELECT) with the current person and vehicle.
SUMMARY_SELECT = (
    f"WITH {MOVED_CTE} "
    "SELECT entry_no, session_id, source, started_at, ended_at, time_zone, "
    f"{effective('person_id')}, {effective('vehicle_id')}, "
    "charger_serial, energy_wh, cost_total, currency, evidence_class FROM sessions"
)


# SQL condition: a driver's manual session that no administrator has approved (included).
AWAITING_APPROVAL = (
    "(sessions.source = 'manual' AND json_extract(CAST(sessions.body AS TEXT), "
    "'$.record.manual.approval') = 'pending' AND NOT EXISTS (SELECT 1 FROM adjustments i "
    "WHERE i.session_id = sessions.session_id AND i.kind = 'include'))"
)
