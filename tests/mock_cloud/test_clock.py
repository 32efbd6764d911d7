from datetime import UTC, datetime

import pytest

from mock_cloud import SimClock


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = SimClock(datetime(2026, 1, 1, tzinfo=UTC))
    start = clock.now()
    assert clock.now() == start
    assert clock.advance(90) == start + 90
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_speed_factor_runs_simulated_time_faster_than_wall_time() -> None:
    wall = [100.0]
    clock = SimClock(datetime(2026, 1, 1, tzinfo=UTC), speed=60, wall=lambda: wall[0])
    start = clock.now()
    wall[0] += 2.0  # two wall seconds
    assert clock.now() == pytest.approx(start + 120)
    clock.advance(30)
    assert clock.now() == pytest.approx(start + 150)
