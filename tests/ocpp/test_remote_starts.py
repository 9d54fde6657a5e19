"""The remote starts' id tags as kept across restarts (remote_starts.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory

from custom_components.ev_charging_monitor.central_system.remote_starts import RemoteStarts


async def test_a_tag_is_written_at_once_and_read_back_until_it_expires(
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    written: list[dict[str, Any]] = []

    async def save(data: dict[str, Any]) -> None:
        written.append(data)

    starts = RemoteStarts(None, save)
    assert not starts.under_way()
    await starts.async_add("HA0123", timedelta(minutes=10))
    assert written == [{"tags": {"HA0123": {"expires": "2026-03-01T20:10:00+00:00"}}}]
    # A restart: what was written is all there is.
    again = RemoteStarts(written[-1], save)
    assert again.get("HA0123") is not None
    assert again.under_way()
    assert again.get("HA9999") is None
    freezer.tick(timedelta(minutes=10))
    assert again.get("HA0123") is None  # valid until, not including, its end
    assert not again.under_way()
    # A new tag drops the expired ones.
    await again.async_add("HA4567", timedelta(minutes=10))
    assert list(written[-1]["tags"]) == ["HA4567"]
    await again.async_discard("HA4567")
    assert written[-1] == {"tags": {}}


def test_garbage_in_the_store_is_dropped_not_fatal() -> None:
    starts = RemoteStarts(
        {
            "tags": {
                "HA-naive": {"expires": "2026-03-01T20:10:00"},  # no zone: no time to trust
                "HA-text": {"expires": "soon"},
                "HA-none": {},
                "HA-number": {"expires": 5},
                "HA-good": {"expires": "2999-01-01T00:00:00+00:00"},
            }
        }
    )
    assert starts.get("HA-good") is not None
    for tag in ("HA-naive", "HA-text", "HA-none", "HA-number"):
        assert starts.get(tag) is None
