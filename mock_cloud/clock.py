"""The virtual clock: every simulated delay advances it; nothing sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

# A Wednesday morning part-way through June, with the fleet's months of history behind it: month-to-date,
# last week and the forecast to the month's end all mean something, and a clock moved forward a few days
# meets a weekend. Early: the services' daily peaks fall between 12:00 and 22:00 UTC, so the demos' rollouts
# run before the ramp.
DEFAULT_START = datetime(2026, 6, 17, 6, tzinfo=UTC)


class SimClock:
    """Simulated time in seconds since the Unix epoch.

    With `speed` 0 (the default, and what tests use) time moves only through :meth:`advance`. With a speed
    factor F > 0, each wall-clock second also adds F simulated seconds, for a server people watch live.
    """

    def __init__(
        self,
        start: datetime = DEFAULT_START,
        speed: float = 0.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._base = start.timestamp()
        self._speed = speed
        self._wall = wall
        self._wall_origin = wall()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        if self._speed:
            return self._base + (self._wall() - self._wall_origin) * self._speed
        return self._base

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._base += seconds
        return self.now()
