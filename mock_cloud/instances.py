"""Instances, their lifecycle states and the history that metrics and bills are computed from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mock_cloud.catalog import PricingModel, Provider


class State(StrEnum):
    """EC2's instance states; GCP's and Azure's map onto them."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"


TRANSITIONAL = frozenset({State.PENDING, State.STOPPING, State.SHUTTING_DOWN})


@dataclass(slots=True)
class Segment:
    """From `start` until the next segment, the instance had `instance_type` and was (not) running."""

    start: float
    instance_type: str
    running: bool


@dataclass(slots=True)
class Instance:
    """A virtual machine as the simulator keeps it (mutable; callers get `views.InstanceView` snapshots)."""

    id: str
    name: str
    provider: Provider
    region: str
    instance_type: str
    pricing_model: PricingModel
    state: State
    launch_time: float
    application: str
    workload: int  # the workload slot this machine serves
    volume_gb: int
    tags: dict[str, str]
    history: list[Segment]
    transition_until: float | None = None
    terminated_at: float | None = None
    interruption_at: float | None = None
    interruption_notice_at: float | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    changed: bool = False  # resized, replaced or stopped since launch: metrics must follow its history
    parked: bool = False  # stopped by its schedule, so the schedule (and only it) starts it again

    def record(self, at: float, *, running: bool, instance_type: str | None = None) -> None:
        """Close the current segment at `at` and open a new one."""
        self.history.append(Segment(at, instance_type or self.instance_type, running))
        self.changed = True
        if self.history[-2].start == at:
            del self.history[-2]
