"""One set of plausibility rules for sessions, entities and repairs (no Home Assistant)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from custom_components.ev_charging_monitor.devices import ChargerState, Reading
from custom_components.ev_charging_monitor.session.plausibility import (
    BackwardsWatch,
    ReadingPlausibility,
    RegisterGate,
    RegisterTrack,
    Verdict,
    energy_register,
    power_w,
)


@pytest.mark.parametrize(
    ("value", "resolution", "expected"),
    [
        (1_234_500.0, Decimal(100), Decimal(1_234_500)),
        (0.0, None, Decimal(0)),
        (math.nan, None, None),
        (math.inf, None, None),
        (-1.0, None, None),
        (None, None, None),
        (429_496_729_500.0, Decimal(100), None),  # 0xFFFFFFFF x 0.1 kWh
        (6_553_500.0, Decimal(100), None),  # 0xFFFF x 0.1 kWh
        (4_294_967_295.0, None, None),  # 0xFFFFFFFF Wh
        (2_147_483.647, None, None),  # 0x7FFFFFFF x 0.001 Wh
        (65_536.0, None, Decimal(65_536)),
        (1e12, None, None),  # beyond any meter
    ],
)
def test_energy_register(value: float | None, resolution: Decimal | None, expected: object) -> None:
    """Registers are finite, not negative, no sentinel and below 100 GWh."""
    assert energy_register(value, resolution_wh=resolution) == expected


def test_power() -> None:
    """4.29 GW from a 22 kW charger is no power; negative is export and stays."""
    assert power_w(4_294_967_295.0, max_power_w=22_080) is None
    assert power_w(math.nan, max_power_w=22_080) is None
    assert power_w(32_767.0, max_power_w=55_200) is None  # 0x7FFF
    assert power_w(11_040.0, max_power_w=22_080) == 11_040.0
    assert power_w(-3_000.0, max_power_w=22_080) == -3_000.0
    assert power_w(33_121.0, max_power_w=22_080) is None  # above 1.5 x 22 080


def test_reading_of_a_charger_answering_ffff() -> None:
    """Issue 12: the power sensor showed 4.29 GW; now power and energy are unknown."""
    plausibility = ReadingPlausibility(
        max_power_w=22_080, resolution_wh=Decimal(100), max_current_a=32
    )
    raw = Reading(
        state=ChargerState.B,
        power=4_294_967_295.0,
        energy=429_496_729_500.0,
        session_energy=4_294_967_295.0,
        current_l1=65.535,
    )
    clean = plausibility.gate(plausibility.clean(raw), 0.0)
    assert clean.power is None
    assert clean.energy is None
    assert clean.session_energy is None
    assert clean.current_l1 is None  # 65.535 A: 0xFFFF mA, beyond 1.5 x 32 A
    assert clean.state is ChargerState.B
    normal = plausibility.clean(Reading(current_l1=16.0, voltage_l1=231.0, power=11_040.0))
    assert (normal.current_l1, normal.voltage_l1, normal.power) == (16.0, 231.0, 11_040.0)
    assert plausibility.clean(Reading(voltage_l1=6_553.5)).voltage_l1 is None


def test_track_reset_from_first_low_reading() -> None:
    """Three consistent low readings confirm a reset that starts at the first of them."""
    track = RegisterTrack(max_power_w=22_080)
    verdicts = [
        track.judge(Decimal(v), t).verdict
        for t, v in [(0, 5_000), (60, 5_184), (120, 10), (180, 194), (240, 378), (300, 562)]
    ]
    assert verdicts == [
        Verdict.FIRST,
        Verdict.ACCEPTED,
        Verdict.DROPPED,
        Verdict.DROPPED,
        Verdict.RESET,
        Verdict.ACCEPTED,
    ]
    assert track.last == Decimal(562)


def test_track_reset_judgement_names_its_base() -> None:
    """The confirming judgement carries the first reading of the new track."""
    track = RegisterTrack(max_power_w=22_080)
    track.judge(Decimal(5_000), 0)
    track.judge(Decimal(10), 60)
    track.judge(Decimal(194), 120)
    judgement = track.judge(Decimal(378), 180)
    assert judgement.verdict is Verdict.RESET
    assert judgement.base == Decimal(10)


def test_track_jump_is_confirmed_not_allowed_by_waiting() -> None:
    """A jump stays off track however long the last accepted reading is ago."""
    track = RegisterTrack(max_power_w=22_080)
    track.judge(Decimal(1_000), 0)
    # 7 200 W at 5 s polls: 10 Wh each; +1 000 Wh at 10 s.
    assert track.judge(Decimal(2_020), 10).verdict is Verdict.JUMPED
    assert track.judge(Decimal(2_030), 15).verdict is Verdict.JUMPED
    judgement = track.judge(Decimal(2_040), 20)
    assert (judgement.verdict, judgement.base) == (Verdict.JUMP, Decimal(2_020))


def test_track_repeated_value_confirms_nothing_while_power_flows() -> None:
    """A garbage value read again is no register counting from a new level.

    At 7 200 W the register grows 10 Wh in 5 s; 123 read three times does not grow, so
    it stays held back, and the old line (1 040 at 20 s) is accepted again.
    """
    track = RegisterTrack(max_power_w=22_080)
    track.judge(Decimal(1_000), 0, 7_200)
    assert track.judge(Decimal(123), 5, 7_200).verdict is Verdict.DROPPED
    assert track.judge(Decimal(123), 10, 7_200).verdict is Verdict.DROPPED
    assert track.judge(Decimal(123), 15, 7_200).verdict is Verdict.DROPPED
    assert track.judge(Decimal(1_040), 20, 7_200).verdict is Verdict.ACCEPTED
    assert track.last == Decimal(1_040)


def test_track_reset_standing_still_confirms_when_no_power_flows() -> None:
    """With no power, a reset register that stands at its new value is counting."""
    track = RegisterTrack(max_power_w=22_080)
    track.judge(Decimal(1_000), 0, 0)
    assert track.judge(Decimal(0), 5, 0).verdict is Verdict.DROPPED
    assert track.judge(Decimal(0), 10, 0).verdict is Verdict.DROPPED
    judgement = track.judge(Decimal(0), 15, 0)
    assert (judgement.verdict, judgement.base) == (Verdict.RESET, Decimal(0))


def test_track_unknown_power_needs_a_rising_register() -> None:
    """Without a power reading, standing still is no evidence either."""
    track = RegisterTrack(max_power_w=22_080)
    track.judge(Decimal(1_000), 0)
    verdicts = [track.judge(Decimal(v), t).verdict for t, v in [(5, 0), (10, 0), (15, 0)]]
    assert verdicts == [Verdict.DROPPED] * 3
    assert track.judge(Decimal(10), 20).verdict is Verdict.DROPPED
    # 0 (5 s), 10 (20 s), 20 (25 s): three rising readings from the first low one.
    judgement = track.judge(Decimal(20), 25)
    assert (judgement.verdict, judgement.base) == (Verdict.RESET, Decimal(0))


def test_gate_holds_back_drop_and_jump() -> None:
    """The Energy dashboard never sees a drop or an impossible jump."""
    gate = RegisterGate(max_power_w=22_080)
    seen = [
        gate.filter(value, 60.0 * i)
        for i, value in enumerate([1_000.0, 1_184.0, 0.0, 1_368.0, 901_368.0, 1_552.0, math.nan])
    ]
    assert seen == [1_000.0, 1_184.0, None, 1_368.0, None, 1_552.0, None]
    assert gate.rejected == 2


def test_backwards_watch() -> None:
    """The repair's view: below the highest by more than a step, until back."""
    watch = BackwardsWatch(resolution_wh=Decimal(100))
    watch.observe(5_000.0)
    watch.observe(4_950.0)  # within one 0.1 kWh step: rounding, not backwards
    assert watch.below is None
    watch.observe(4_800.0)
    assert watch.below == (Decimal(5_000), Decimal(4_800))
    watch.observe(math.nan)  # no reading: nothing changes
    assert watch.below == (Decimal(5_000), Decimal(4_800))
    watch.observe(5_000.0)
    assert watch.below is None
