"""Where each team works, and when: development machines are busy while their team is at work and nearly
idle the rest of the time, which is why stopping them at night and at weekends is the easiest money a
FinOps team finds after unattached disks.

A team's office hours are 08:00 to 19:00 on weekdays in its own time zone (summer time included, through
the IANA database). Every machine carries its team's zone in its `timezone` tag, as Cloud Custodian's
off-hours policies read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

HOUR, DAY = 3600.0, 86400.0  # as in workloads.py, which reads these hours
TIMEZONE_TAG = "timezone"
TEAM_ZONES = {
    "payments": "America/New_York",
    "search": "America/Los_Angeles",
    "checkout": "Europe/London",
    "identity": "Europe/Berlin",
    "data": "Europe/Berlin",
    "ml": "America/Los_Angeles",
    "platform": "Europe/London",
    "web": "Asia/Kolkata",
    "analytics": "America/Chicago",
    "mobile": "Asia/Singapore",
}
OFFICE_OPENS, OFFICE_CLOSES = 8, 19  # local hours
# Tiers that run unattended (nightly jobs, training runs): their load does not follow the office.
UNATTENDED_TIERS = frozenset({"batch", "training"})
# Outside office hours a development machine runs its agents and daemons only: this share of its load.
AFTER_HOURS_LOAD = 0.04


@cache
def _offset_seconds(zone: str, hour: int) -> float:
    """The zone's offset from UTC during the UTC hour `hour` (hours since the epoch)."""
    offset = datetime.fromtimestamp(hour * HOUR, UTC).astimezone(ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def local_seconds(zone: str, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Unix `times` as seconds since the epoch on the zone's wall clock."""
    hours = np.floor(times / HOUR).astype(np.int64)
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.fromiter((_offset_seconds(zone, int(h)) for h in unique), np.float64, len(unique))
    return times + offsets[inverse]


def weekdays(local: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The day of the week of each wall-clock moment (`local_seconds`), Monday 0."""
    return (np.floor(local / DAY).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday


def in_office(zone: str, times: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Whether each moment falls in the zone's office hours (weekdays, 08:00 to 19:00 local)."""
    local = local_seconds(zone, times)
    hour = (local % DAY) / HOUR
    return (weekdays(local) < 5) & (hour >= OFFICE_OPENS) & (hour < OFFICE_CLOSES)
