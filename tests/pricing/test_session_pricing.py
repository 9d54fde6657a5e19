"""SessionPricing never raises into a poll: every failure comes back as "unpriced, because".

A real Home Assistant (the price sensor is a state); the session is a stand-in holding
only what pricing reads from a tracker's session (its id, start and readings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from homeassistant.core import HomeAssistant

from custom_components.ev_charging_monitor.pricing.price_entity import SessionPricing
from custom_components.ev_charging_monitor.session.tracker import ActiveSession

T0 = datetime(2026, 11, 18, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
FLAT = {"tariff": {"type": "flat", "price": "0.30"}}


@dataclass
class Session:
    id: str
    started_at: datetime
    samples: list[tuple[Any, Any]]

    def readings(self) -> list[tuple[Any, Any]]:
        return self.samples


def session(*samples: tuple[Any, Any]) -> ActiveSession:
    return cast(ActiveSession, Session("s1", T0, list(samples)))


def pricing(hass: HomeAssistant, options: dict[str, Any], currency: str = "EUR") -> SessionPricing:
    return SessionPricing(hass, options, currency=currency, time_zone="Europe/Berlin")


async def test_flat_price_by_hand(hass: HomeAssistant) -> None:
    result = pricing(hass, FLAT).price(session((T0, Decimal(0)), (T0 + HOUR, Decimal(7250))))
    assert result.problem is None
    assert result.cost is not None
    assert result.cost.total == Decimal("2.18")  # 7.25 kWh x 0.30 = 2.175, half up


@pytest.mark.parametrize(
    "samples",
    [
        ((T0, Decimal(0)), (T0 + HOUR, Decimal("NaN"))),
        ((T0, Decimal(10)), (T0 + HOUR, Decimal(5))),  # a register going backwards
        ((T0, Decimal(0)), (datetime(2026, 11, 18, 13), Decimal(5))),  # naive time
        ((T0, Decimal(0)), (T0 + HOUR, 5.0)),  # a float, not a Decimal
        ((T0, Decimal(0)), ("later", Decimal(5))),
    ],
)
async def test_garbage_readings_are_unpriced_with_a_reason(
    hass: HomeAssistant, samples: tuple[tuple[Any, Any], ...]
) -> None:
    sessions = pricing(hass, FLAT)
    result = sessions.price(session(*samples))
    assert result.cost is None
    assert result.problem
    assert sessions.cost(session(*samples)) is None


@pytest.mark.parametrize(
    ("options", "currency"),
    [
        ({"tariff": {"type": "flat", "price": "Infinity"}}, "EUR"),
        ({"tariff": {"type": "flat"}}, "EUR"),
        ({"tariff": {"type": "time_of_use", "periods": "00:00-06:00=0.2"}}, "EUR"),
        (FLAT, "euros"),
        ({"tariff": {"type": "dynamic", "entity_id": "sensor.prices"}}, "euros"),
    ],
)
async def test_broken_configuration_never_raises(
    hass: HomeAssistant, options: dict[str, Any], currency: str
) -> None:
    hass.states.async_set("sensor.prices", "0.3", {"unit_of_measurement": "EUR/kWh"})
    sessions = pricing(hass, options, currency)
    stop = sessions.async_start()
    result = sessions.price(session((T0, Decimal(0)), (T0 + HOUR, Decimal(1000))))
    assert result.cost is None
    assert result.problem
    assert sessions.current_price(T0) is None
    assert sessions.next_boundary(T0) is None
    stop()


async def test_no_tariff_is_unpriced_by_choice_without_a_problem(hass: HomeAssistant) -> None:
    sessions = pricing(hass, {})
    result = sessions.price(session((T0, Decimal(0)), (T0 + HOUR, Decimal(1000))))
    assert result.cost is None
    assert result.problem is None  # the user chose no tariff: flagged, but nothing to repair
    assert not sessions.configured
