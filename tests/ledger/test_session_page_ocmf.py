"""The session page says in words whether the signed meter values verified (ingress mode,
with Home Assistant's user list given directly: the page is what is under test)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec

from ev_charging_ledger.access import IngressAccess
from ev_charging_ledger.api import create_app
from ev_charging_ledger.storage import Ledger
from tests.ledger.test_evidence import _payload, _record, _sign

ADMIN = {"X-Remote-User-Id": "admin-1", "X-Remote-User-Name": "Admin"}


async def _users() -> list[dict[str, Any]]:
    return [{"id": "admin-1", "name": "Admin", "is_owner": True, "group_ids": []}]


@pytest.fixture
async def client(ledger: Ledger) -> AsyncIterator[TestClient[Any, Any]]:
    policy = IngressAccess(_users, allowed_peers=frozenset({"127.0.0.1"}))
    test_client = TestClient(TestServer(create_app(ledger, policy), host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


def _ocmf_block(html: str) -> str:
    found = re.search(r'<dl id="ocmf">(.*?)</dl>', html, re.S)
    assert found, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


async def _page(client: TestClient[Any, Any], session_id: str, lang: str) -> str:
    response = await client.get(f"/sessions/{session_id}?lang={lang}", headers=ADMIN)
    assert response.status == 200
    return await response.text()


async def test_a_verified_session_reads_as_verified_in_both_languages(
    client: TestClient[Any, Any], ledger: Ledger
) -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    record = _record(ocmf, key)
    ledger.append_sessions([record])

    english = _ocmf_block(await _page(client, record["id"], "en"))
    # The payload signs 1000.00 -> 1007.40 kWh by meter MTR-42.
    assert english == (
        "Result verified: signed by the meter and unchanged Signature consistent "
        "Begin and end readings consistent Register start (kWh) 1000.000 "
        "Register end (kWh) 1007.400 Signing meter MTR-42"
    )
    german = _ocmf_block(await _page(client, record["id"], "de"))
    assert german.startswith(
        "Ergebnis geprüft: vom Zähler signiert und unverändert Signatur stimmig"
    )
    assert "1007,400" in german


async def test_a_tampered_session_names_what_failed(
    client: TestClient[Any, Any], ledger: Ledger
) -> None:
    ocmf, key = _sign(_payload(), ec.SECP256R1())
    tampered = ocmf.replace('"RV":1007.40', '"RV":1017.40')
    assert tampered != ocmf
    record = _record(tampered, key)
    ledger.append_sessions([record])

    html = await _page(client, record["id"], "de")
    block = _ocmf_block(html)
    assert block.startswith("Ergebnis nicht bestätigt")
    assert "Signatur fehlgeschlagen" in block
    problems = re.search(r'<ul id="ocmf-problems" lang="en">(.*?)</ul>', html, re.S)
    assert problems is not None
    assert "signature" in problems.group(1)
    # No raw Python structures on the page.
    assert "[&#39;" not in html
    assert "{&#39;" not in html
