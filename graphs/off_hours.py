"""Off-hours schedules, kept: at each stop and start that a machine's `off-hours` tag names (in its team's
time zone), the machine is stopped or started.

Once per boundary, not on every look: a person who starts a machine at 22:00 to work late keeps it until the
next stop, as AWS Instance Scheduler's default (not enforced) schedules do. Each change is made under a key
of the machine and the boundary, and the database marks how far in the cloud's time the schedules have been
kept, so a retried run, or another replica taking the duty over, changes nothing twice; a service that was
down across boundaries applies the latest one of each machine when it is back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tools.analysis.off_hours import OFF_HOURS_TAG, ScheduleError, schedule_of
from tools.errors import ProviderError
from tools.models import Instance, InstanceFilter
from tools.provider import CloudProvider

DUTY = "off-hours"


class ScheduledChange(BaseModel):
    instance_id: str
    at: datetime = Field(description="The schedule's boundary this change keeps")
    action: Literal["stop", "start"]
    ok: bool
    note: str = ""


class ScheduleRun(BaseModel):
    since: datetime
    until: datetime
    scheduled: int = Field(0, description="Machines with a schedule (opted-out ones not counted)")
    changes: list[ScheduledChange] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="Schedules that could not be read")


def keep_schedules(cloud: CloudProvider, since: datetime, until: datetime) -> ScheduleRun:
    """Stop or start each scheduled machine whose schedule had a boundary in (since, until], as its latest
    boundary says."""
    run = ScheduleRun(since=since, until=until)
    if int(since.timestamp() // 60) == int(until.timestamp() // 60):
        return run  # boundaries fall on whole minutes: none was crossed, and nothing needs listing
    for inst in cloud.list_instances(InstanceFilter()):
        if OFF_HOURS_TAG not in inst.tags or inst.state not in ("running", "stopped"):
            continue
        try:
            schedule = schedule_of(inst)
        except ScheduleError as exc:
            run.problems.append(f"{inst.id}: its {OFF_HOURS_TAG} tag '{inst.tags[OFF_HOURS_TAG]}': {exc}")
            continue
        if schedule is None:
            continue
        run.scheduled += 1
        crossed = schedule.boundaries(since, until)
        if crossed:
            at, running = crossed[-1]
            change = _keep(cloud, inst, at, running)
            if change is not None:
                run.changes.append(change)
    return run


def _keep(cloud: CloudProvider, inst: Instance, at: datetime, running: bool) -> ScheduledChange | None:
    if running == (inst.state == "running"):
        return None
    action: Literal["stop", "start"] = "start" if running else "stop"
    key = f"{DUTY}-{inst.id}-{int(at.timestamp())}"
    try:
        (cloud.start if running else cloud.stop)(inst.id, key)
    except ProviderError as exc:
        return ScheduledChange(instance_id=inst.id, at=at, action=action, ok=False, note=str(exc))
    return ScheduledChange(instance_id=inst.id, at=at, action=action, ok=True)
