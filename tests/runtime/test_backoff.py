"""The shared backoff schedule: doubling from the first wait up to the cap, jitter below it."""

from __future__ import annotations

import math

import pytest

from runtime.backoff import Backoff


def test_the_ceiling_doubles_from_the_first_wait_to_the_cap() -> None:
    backoff = Backoff(first_s=0.5, cap_s=5.0)

    assert [backoff.ceiling(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.ceiling(-3) == 0.5  # "no failure yet" never waits less than the first


def test_a_thousand_failures_do_not_overflow_and_no_cap_means_none() -> None:
    assert Backoff(first_s=1.0, cap_s=600.0).ceiling(1000) == 600.0
    assert math.isfinite(Backoff(first_s=1.0).ceiling(1000))


@pytest.mark.parametrize(
    ("floor", "draws", "waits"),
    [
        (0.0, [0.0, 0.5, 0.999], [0.0, 2.0, 3.996]),  # full jitter: anywhere below
        (0.5, [0.0, 0.5, 0.999], [2.0, 3.0, 3.998]),  # equal jitter: the upper half
        (1.0, [0.0, 0.5, 0.999], [4.0, 4.0, 4.0]),  # none
    ],
)
def test_jitter_draws_between_the_floor_and_the_ceiling(
    floor: float, draws: list[float], waits: list[float]
) -> None:
    backoff = Backoff(first_s=1.0, cap_s=60.0, floor=floor)

    got = [backoff.wait(2, rand=iter([draw]).__next__) for draw in draws]

    assert got == pytest.approx(waits)
