"""The reports benchmark follows the sessions page's "next page" link as a browser does.

``benchmarks/reports.py --quick`` failed with "invalid cursor": it took the link's
URL-encoded cursor text (``:`` written as ``%3A``) and passed it on as a query value,
which encodes it a second time. Here the real page is rendered over real HTTP, the
benchmark's helper reads the cursor, and page 2 holds the ten sessions page 1 did not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from benchmarks.reports import next_page_cursor
from ev_charging_ledger.access import TokenAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
from tests.ledger.integration_records import make_record

TOKEN = "cursor-test-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


async def test_next_page_cursor_reaches_page_two(ledger: Ledger) -> None:
    person = ledger.add_person("Paula", ha_user_id="paula")
    first = datetime(2026, 3, 1, 6, tzinfo=UTC)
    ledger.append_sessions(
        [
            make_record(seq, user_id="paula", started=first + timedelta(hours=3 * seq))
            for seq in range(1, 61)
        ]
    )
    async with TestClient(TestServer(create_app(ledger, TokenAccess(TOKEN, None)))) as client:
        query = {"person_id": str(person.id)}
        page_one = await (await client.get("/sessions", params=query, headers=HEADERS)).text()
        cursor = next_page_cursor(page_one)
        # The oldest session on page 1 is the 11th of 60 (entry 11), started 33 h after
        # `first`: the cursor is its start and entry number.
        assert cursor == f"{first + timedelta(hours=33):%Y-%m-%dT%H:%M:%S}.000000Z~11"

        # What the benchmark did before: the href's text as the value -> refused.
        raw = re.search(r'cursor=([^&"]+)', page_one)
        assert raw is not None
        assert "%3A" in raw.group(1)
        refused = await client.get(
            "/sessions", params={**query, "cursor": raw.group(1)}, headers=HEADERS
        )
        assert refused.status == 400
        assert "invalid cursor" in await refused.text()

        response = await client.get(
            "/sessions", params={**query, "cursor": cursor}, headers=HEADERS
        )
        assert response.status == 200
        page_two = await response.text()
    assert page_one.count('class="session-link"') == 50
    assert page_two.count('class="session-link"') == 10
    assert 'id="next-page"' not in page_two
