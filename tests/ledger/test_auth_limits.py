"""The rate limits for unknown tokens, on a clock the test moves (no waiting).

Per client: 5 lookups at once, then one every 600 / 5 = 120 s. Overall: 10 at once, then
one every 60 / 10 = 6 s. A lookup that finds a valid user is given back.
"""

from __future__ import annotations

import time

import pytest

from ev_charging_ledger.access import LookupLimiter, looks_like_access_token
from tests.ledger.test_auth_ban import forged_token


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_one_client_gets_five_lookups_then_one_every_two_minutes() -> None:
    clock = Clock()
    limiter = LookupLimiter(clock)
    for _ in range(5):
        assert limiter.wait("10.0.0.1") == 0
        limiter.take("10.0.0.1")
    assert limiter.wait("10.0.0.1") == pytest.approx(120)
    clock.now += 60
    assert limiter.wait("10.0.0.1") == pytest.approx(60)
    clock.now += 60
    assert limiter.wait("10.0.0.1") == 0


def test_all_clients_together_get_ten_then_one_every_six_seconds() -> None:
    clock = Clock()
    limiter = LookupLimiter(clock)
    for number in range(10):
        client = f"10.0.0.{number}"
        assert limiter.wait(client) == 0
        limiter.take(client)
    assert limiter.wait("10.0.0.99") == pytest.approx(6)
    clock.now += 6
    assert limiter.wait("10.0.0.99") == 0


def test_a_valid_user_costs_nothing() -> None:
    limiter = LookupLimiter(Clock())
    for _ in range(50):
        assert limiter.wait("10.0.0.1") == 0
        limiter.take("10.0.0.1")
        limiter.give_back("10.0.0.1")


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        (1800, True),
        (-3600, False),  # expired an hour ago
        (-60, True),  # within the allowed clock skew
    ],
)
def test_only_unexpired_jwts_may_reach_home_assistant(expires_in: float, expected: bool) -> None:
    # Built here, not at collection: the expiry is relative to now.
    assert looks_like_access_token(forged_token(expires_in), time.time()) is expected


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "", "x.y", "a..b"])
def test_malformed_tokens_never_reach_home_assistant(token: str) -> None:
    assert looks_like_access_token(token, time.time()) is False
