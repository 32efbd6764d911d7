"""The rollout's vocabulary: its scope and settings, a person's decision, waves and their checks, the report,
and the graph's state (ids, plan summaries and results; never the fleet)."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from agents.review import AgentName, Approval, ReviewPolicy, RolloutKind, RolloutPlan
from graphs.rollout.approvals import (
    ApprovalLevel,
    ApprovalNeeds,
    ApprovalPolicy,
    ApprovalRule,
    Deadline,
)
from tools.models import CloudName, InstanceFilter

Status = Literal[
    "planning",
    "awaiting_approval",
    "rolling_out",
    "completed",
    "rolled_back",
    "rejected",
    "nothing_to_do",
    "cancelled",
    "expired",
]
FINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "rolled_back", "rejected", "nothing_to_do", "cancelled", "expired"}
)


class Scope(BaseModel):
    """Which instances a rollout may touch; every given field must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: CloudName | None = None
    region: str | None = None
    application: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="e.g. environment=staging, team=ml")
    instance_ids: list[str] = Field(default_factory=list, description="Only these instances, if given")

    def filter(self) -> InstanceFilter:
        return InstanceFilter(
            provider=self.provider, region=self.region, application=self.application, tags=self.tags
        )


class RolloutSettings(BaseModel):
    """How a rollout proceeds; kept in the workflow's state, so a resumed run keeps its settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waves: tuple[float, ...] = Field(
        (0.1, 0.5, 1.0), description="Cumulative share of the approved instances changed by each wave"
    )
    observe_minutes: float = Field(
        60.0,
        gt=0,
        le=24 * 60,
        allow_inf_nan=False,
        description="Quality watched (cloud time) after each wave",
    )
    max_latency_increase_pct: float = Field(
        5.0, gt=0, le=1000, allow_inf_nan=False, description="Median p95 latency rise that rolls back"
    )
    max_error_rate_increase_pct: float = Field(
        5.0, gt=0, le=1000, allow_inf_nan=False, description="Error-rate rise that rolls back"
    )
    error_rate_noise: float = Field(
        0.001, ge=0, description="Absolute error-rate changes below this are noise, whatever their ratio"
    )
    significance: float = Field(
        0.01, gt=0, lt=1, description="A rise past the guard must also be this unlikely by chance (one-sided)"
    )
    tolerated_degraded_share: float = Field(
        0.01,
        ge=0,
        lt=1,
        description="Share of a wave's applications that may look degraded before it rolls back: at the "
        "significance above, about 1 in 100 unchanged services looks degraded by chance",
    )
    max_failed_fraction: float = Field(
        0.2, ge=0, le=1, description="Share of a wave's changes that may fail before everything rolls back"
    )
    auto_approve: bool = Field(False, description="Skip the person unless the policy below asks for one")
    person_above_monthly_savings: float = Field(
        10_000.0, description="A plan saving more than this (USD/month) always needs a person"
    )
    person_below_confidence: float = Field(
        0.5, description="Any agent less confident than this brings a person in"
    )
    max_changes: int | None = Field(None, gt=0, description="At most this many changes, best first")
    distinct_approver: bool = Field(
        False, description="Its requester may not approve it, through any interface: another person must"
    )
    approval: ApprovalPolicy = Field(
        default_factory=ApprovalPolicy,
        description="How many people approve it, of which role, and by when (the deployment's policy)",
    )

    @field_validator("waves")
    @classmethod
    def _cumulative(cls, waves: tuple[float, ...]) -> tuple[float, ...]:
        if (
            not waves
            or waves[-1] != 1.0
            or any(not 0 < w <= 1 for w in waves)
            or list(waves) != sorted(set(waves))
        ):
            raise ValueError("waves must rise strictly within (0, 1] and end at 1.0, e.g. 0.1,0.5,1.0")
        return waves

    def review_policy(self) -> ReviewPolicy:
        return ReviewPolicy(max_latency_increase_pct=self.max_latency_increase_pct)


class PlanSummary(BaseModel):
    """What the state keeps of a plan (the plan itself is stored once, in the database)."""

    kind: RolloutKind
    created_at: datetime
    instances_analyzed: int
    opportunities: int
    changes: int
    monthly_savings: float

    @classmethod
    def of(cls, plan: RolloutPlan) -> PlanSummary:
        return cls(
            kind=plan.kind,
            created_at=plan.created_at,
            instances_analyzed=plan.instances_analyzed,
            opportunities=plan.opportunities,
            changes=len(plan.changes),
            monthly_savings=plan.monthly_savings,
        )


class ApprovalRequest(BaseModel):
    """What a person is asked to decide: sent with `interrupt()`, answered with a `Decision`."""

    workflow_id: str
    kind: RolloutKind
    instance_ids: list[str]
    monthly_savings: float
    risk: Literal["low", "medium", "high"]
    approvals: list[Approval]
    why: list[str] = Field(description="Why the policy asks a person")
    needs: ApprovalNeeds = Field(default_factory=ApprovalNeeds, description="How many people, which roles")
    requested_at: datetime | None = Field(None, description="When it was asked (the cloud's time)")
    deadlines: list[Deadline] = Field(
        default_factory=list, description="Each level's deadline; past the last, the request expires"
    )


class Decision(BaseModel):
    """The answer a pending approval takes: approve (all, or only `instance_ids`) or reject, by a person —
    or by several, when the plan needs more than one (`approvers`) — or expire, when nobody answered in
    time."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "expire"]
    by: str = Field(min_length=1, max_length=128)
    instance_ids: list[str] | None = Field(None, description="Approve only these (an edit of the plan)")
    comment: str | None = Field(None, max_length=2000)
    approvers: list[str] = Field(default_factory=list, description="Each person who approved, when several")


class ChangeResult(BaseModel):
    """One instance's change (or its reversal) as the cloud carried it out."""

    instance_id: str = Field(description="The instance the plan names")
    current_id: str = Field(description="Its id afterwards (a spot migration launches a replacement)")
    action: str
    before: str
    after: str
    ok: bool
    monthly_savings: float = 0.0
    uptime: float = Field(1.0, description="Share of the month it runs (the plan's), for measured savings")
    error: str | None = None


class QualityCheck(BaseModel):
    """One service after a wave: its changed machines against their unchanged peers in the same minutes
    (`peers`), or against their own same minutes of previous days (`seasonal`) when none is left."""

    application: str
    method: Literal["peers", "seasonal"]
    peers: int = Field(description="Unchanged machines the changed ones were compared with")
    latency_before_ms: float = Field(description="Changed machines' median p95 before the wave")
    latency_after_ms: float = Field(description="…and after it")
    latency_change_pct: float = Field(description="p95 latency change relative to the peers (or the past), %")
    latency_p_value: float = Field(description="Chance of a rise past the guard this clear with none real")
    error_rate_before: float
    error_rate_after: float
    error_rate_change_pt: float = Field(description="Error-rate change relative to the peers, points")
    error_rate_p_value: float
    degraded: bool


class WaveResult(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime
    results: list[ChangeResult]

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)


class WaveCheck(BaseModel):
    """The monitor's verdict after a wave."""

    number: int
    observed_until: datetime
    checks: list[QualityCheck]
    degraded: bool
    too_many_failures: bool


class WaveSummary(BaseModel):
    number: int
    instances: int
    changed: int
    failed: int
    started_at: datetime
    finished_at: datetime
    max_latency_change_pct: float = Field(description="The worst service's p95 latency change, %")
    max_error_rate_change_pt: float = Field(description="The worst service's error-rate change, points")
    degraded: bool


class RolloutReport(BaseModel):
    """How a rollout ended; the same for an uninterrupted run and one resumed after crashes."""

    workflow_id: str
    kind: RolloutKind
    status: Status
    instances_analyzed: int
    opportunities: int
    planned: int
    approvals: list[Approval]
    decided_by: str | None
    approved: list[str]
    waves: list[WaveSummary]
    changed: list[str] = Field(description="Planned instance ids changed and kept")
    replacements: dict[str, str] = Field(description="Planned id → its id now, where a change replaced it")
    rolled_back: list[str]
    failed: dict[str, str]
    skipped: dict[str, str]
    monthly_savings: float = Field(description="Estimated: the savings of the changes that were kept")
    measured_monthly_savings: float | None = Field(
        None, description="Measured: the kept machines' billed cost before the rollout minus after, a month"
    )
    savings_measurement: str = Field("not measured", description="How it was measured, or why it was not")
    success_rate: float = Field(
        description="Changes kept / changes approved: a rolled-back run keeps none (1.0 when none approved)"
    )
    max_latency_change_pct: float = Field(description="The worst service's p95 latency change in any wave, %")
    max_error_rate_change_pt: float = Field(description="The worst service's error-rate change, points")
    reason: str


class RolloutInput(TypedDict):
    workflow_id: str
    kind: RolloutKind
    scope: Scope
    settings: RolloutSettings
    requested_by: str


class RolloutOutput(TypedDict, total=False):
    status: Status
    report: RolloutReport


class RolloutState(RolloutInput, total=False):
    status: Status
    plan: PlanSummary
    approvals: Annotated[list[Approval], operator.add]
    approved: list[str]
    decision: Decision
    waves: Annotated[list[WaveResult], operator.add]
    checks: Annotated[list[WaveCheck], operator.add]
    rolled_back: list[ChangeResult]
    cancelled_by: str  # who cancelled the workflow, once a step boundary has seen it
    clock: datetime  # the cloud's time when the last step ended: where the next wave starts
    report: RolloutReport


class ReviewTask(TypedDict):
    """What `Send` hands one reviewing agent."""

    agent: AgentName
    workflow_id: str
    settings: RolloutSettings


# The classes a rollout's checkpoints may hold (see graphs.checkpointing).
STATE_TYPES: tuple[type, ...] = (
    Scope,
    RolloutSettings,
    PlanSummary,
    Approval,
    Decision,
    ChangeResult,
    WaveResult,
    WaveCheck,
    QualityCheck,
    RolloutReport,
    WaveSummary,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalLevel,
)
