"""Weekend schedules: the non-production machines a team stops on Friday evening and starts on Monday morning.

Teams do this by hand or with a scheduler (AWS Instance Scheduler, Azure auto-shutdown), marked on the
machine with a tag; it is why a real bill's non-production compute dips every weekend. The simulator keeps
the schedule in the machine's history from its launch, and its control plane goes on applying it as the
clock moves (`Lifecycle`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from mock_cloud.instances import Segment
from mock_cloud.workloads import DAY, HOUR

SCHEDULE_TAG = "schedule"
WEEKDAYS = "weekdays"
WEEK = 7 * DAY
# 1970-01-01 was a Thursday; Monday 1970-01-05 00:00 UTC starts the weeks counted here.
_MONDAY = 4 * DAY
STOP_AT = 4 * DAY + 20 * HOUR  # Friday 20:00 UTC, seconds into the week
START_AT = 7 * HOUR  # Monday 07:00 UTC


def _week_start(t: float) -> float:
    return _MONDAY + ((t - _MONDAY) // WEEK) * WEEK


def running_at(t: float) -> bool:
    """Whether a weekend-scheduled machine is meant to run at `t` (Monday 07:00 to Friday 20:00)."""
    into = t - _week_start(t)
    return START_AT <= into < STOP_AT


def running_mask(times: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """`running_at` for many moments at once."""
    into = (times - _MONDAY) % WEEK
    return (into >= START_AT) & (into < STOP_AT)


def transitions(after: float) -> Iterator[tuple[float, bool]]:
    """(time, running from then on) of every schedule boundary strictly after `after`, in order."""
    week = _week_start(after)
    while True:
        for offset, running in ((START_AT, True), (STOP_AT, False)):
            at = week + offset
            if at > after:
                yield at, running
        week += WEEK


def scheduled_history(launch: float, now: float, instance_type: str) -> list[Segment]:
    """The segments of a machine that has followed the schedule from `launch` to `now`."""
    history = [Segment(launch, instance_type, running_at(launch))]
    for at, running in transitions(launch):
        if at > now:
            break
        history.append(Segment(at, instance_type, running))
    return history
