"""A rollout's progress, as typed events: the graph's nodes and the workflow produce them; the command line's
display, the service's event stream (SSE) and the console read them. Each has an `event` name, and as JSON
the same fields it has here (what the stream and the events table carry)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from graphs.rollout.approvals import ApprovalNeeds


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class Planned(_Event):
    event: Literal["planned"] = "planned"
    instances_analyzed: int
    opportunities: int
    changes: int
    monthly_savings: float
    skipped: int


class Reviewed(_Event):
    event: Literal["review"] = "review"
    agent: str
    approved: bool
    confidence: float
    vetoes: int = Field(description="Instances the agent vetoed")


class AwaitingApproval(_Event):
    event: Literal["awaiting_approval"] = "awaiting_approval"
    instance_ids: list[str]
    monthly_savings: float
    risk: str
    why: list[str]
    needs: ApprovalNeeds = Field(default_factory=ApprovalNeeds)


class Decided(_Event):
    event: Literal["decision"] = "decision"
    decision: str
    by: str
    approved: int = Field(description="Instances approved")


class WaveStarted(_Event):
    event: Literal["wave_started"] = "wave_started"
    number: int
    instances: int


class WaveProgress(_Event):
    event: Literal["wave_progress"] = "wave_progress"
    number: int
    done: int
    instances: int


class WaveDone(_Event):
    event: Literal["wave"] = "wave"
    number: int
    changed: int
    failed: int


class Monitoring(_Event):
    event: Literal["monitoring"] = "monitoring"
    number: int
    applications: int
    until: datetime = Field(description="Watched until then (the cloud's time)")


class Monitored(_Event):
    event: Literal["monitor"] = "monitor"
    number: int
    degraded: bool
    too_many_failures: bool
    worst_latency_change_pct: float
    worst_error_rate_change_pt: float


class RollbackStarted(_Event):
    event: Literal["rollback_started"] = "rollback_started"
    instances: int


class RolledBack(_Event):
    event: Literal["rollback"] = "rollback"
    reverted: int
    failed: int


class Reported(_Event):
    event: Literal["report"] = "report"
    status: str
    monthly_savings: float
    changed: int


class Failed(_Event):
    event: Literal["failed"] = "failed"
    reason: str


class StatusChanged(_Event):
    """Where a workflow stands once its driver stops (ended, waiting for a person, failed)."""

    event: Literal["status"] = "status"
    status: str


ProgressEvent = Annotated[
    Planned
    | Reviewed
    | AwaitingApproval
    | Decided
    | WaveStarted
    | WaveProgress
    | WaveDone
    | Monitoring
    | Monitored
    | RollbackStarted
    | RolledBack
    | Reported
    | Failed
    | StatusChanged,
    Field(discriminator="event"),
]
Progress = Callable[[ProgressEvent], None]
EVENTS: TypeAdapter[ProgressEvent] = TypeAdapter(ProgressEvent)


def read_event(stored: dict[str, object]) -> ProgressEvent:
    """An event as the events table keeps it (its JSON), typed again."""
    return EVENTS.validate_python(stored)
