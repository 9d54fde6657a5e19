"""Drive Home Assistant's clock and the simulators' clock together."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulators.clock import SimClock

# The live coordinator polls every 5 s; a step of at least this long makes a poll due.
MIN_STEP_S = 6


async def poll(
    hass: HomeAssistant,
    clock: SimClock,
    seconds: float = 0,
    freezer: FrozenDateTimeFactory | None = None,
) -> None:
    """Let time pass and let the integration poll once.

    With `freezer`, both clocks move by the same step (at least MIN_STEP_S), so timestamps
    in Home Assistant and energy in the simulators agree. Without it, Home Assistant's
    clock runs on in real time and only the simulators' clock jumps (a frozen clock that
    jumps would time out websocket clients).
    """
    if freezer is None:
        clock.advance(seconds)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=MIN_STEP_S))
    else:
        step = max(seconds, MIN_STEP_S)
        clock.advance(step)
        freezer.tick(timedelta(seconds=step))
        async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
