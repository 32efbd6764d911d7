"""What the specialists review and what they answer: a rollout plan in, an `Approval` out.

A review is a deterministic policy, not a conversation: the same plan and cloud give the same verdict, with
the reasons a person can check. An agent may veto single changes (they are dropped from the rollout) and
still approve the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from statistics import fmean
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.analysis.tolerance import ChangeGuard
from tools.models import InstanceTypeOffer
from tools.provider import CloudProvider

# A rollout kind's name ("spot_migration", "rightsizing", …): the kinds are a registry
# (graphs/rollout/kinds/), and each tells the reviewers what to check (`Check` below).
RolloutKind = str
AgentName = Literal["performance", "resource", "application"]


class Change(BaseModel):
    """One resource's planned change — an instance's, or a volume's, snapshot's or address's — with what
    the reviewers judge it by (the machine fields stay at their defaults for the others)."""

    model_config = ConfigDict(frozen=True)

    instance_id: str = Field(description="The resource's id")
    resource: str = Field("instance", description="instance, volume, snapshot or address")
    machine: str | None = Field(None, description="A volume change: the machine using it, watched after")
    application: str | None
    provider: str
    region: str
    action: str = Field(description="What is done to it: migrate-to-spot, resize, stop, delete-volume, …")
    instance_type: str = Field(
        description="The type it runs on now (a volume's type; a snapshot, an address)"
    )
    current: str = Field(description="Current instance type (resize) or pricing model (spot), or state")
    target: str = Field(description="Target instance type (resize) or pricing model (spot), or state")
    monthly_savings: float
    uptime: float = Field(
        1.0, description="Share of the lookback it ran: a month's savings count only the hours it runs"
    )
    risk: Literal["low", "medium", "high"]
    confidence: float = Field(description="How much of the lookback the analysis saw (0-1)")
    cpu_p95_pct: float = 0.0
    projected_cpu_pct: float = 0.0
    projected_peak_cpu_pct: float = Field(0.0, description="The busiest hours' CPU after a resize (P99.5)")
    projected_memory_pct: float = 0.0
    replicas: int = 0
    environment: str = ""
    tier: str = ""
    stateful: bool = False
    interruption_band: str = Field("", description="Spot interruptions per month of its type, at plan time")

    @property
    def lone_production_replica(self) -> bool:
        """The only machine of a production service: taking it down, even briefly, is an outage."""
        return self.environment == "production" and self.replicas < 2

    @property
    def service_tags(self) -> dict[str, str]:
        """What the shared spot checks read, in the cloud's tag vocabulary."""
        return {"environment": self.environment, "tier": self.tier, "replicas": str(self.replicas),
                "stateful": str(self.stateful).lower()}  # fmt: skip


class QualityBaseline(BaseModel):
    """An application's quality before the rollout, and what its monitoring can see through."""

    model_config = ConfigDict(frozen=True)

    application: str
    p95_latency_ms: float = Field(description="Median of its machines' p95 samples over the last window")
    error_rate: float
    serving: int = Field(description="Machines serving it: a change with unchanged peers is judged by them")
    day_to_day_pct: float = Field(
        0.0,
        description="A single-machine service (no peer to compare with): how far its p95 at this hour "
        "moved from one day to the next over the last days",
    )


class RolloutPlan(BaseModel):
    """What a rollout would change, found by the analysis engines for a scope."""

    kind: RolloutKind
    created_at: datetime
    instances_analyzed: int
    opportunities: int
    changes: list[Change]
    skipped: dict[str, str] = Field(default_factory=dict, description="Instance id → why it is left out")
    baselines: dict[str, QualityBaseline] = Field(default_factory=dict)

    @property
    def monthly_savings(self) -> float:
        return round(sum(c.monthly_savings for c in self.changes), 2)


# The thresholds the reviewers apply are the recommender's own (tools/analysis/tolerance.py).
ReviewPolicy = ChangeGuard


class Approval(BaseModel):
    """One agent's verdict on a plan."""

    agent: AgentName
    approved: bool = Field(description="True when at least one change passes this agent's review")
    confidence: float = Field(ge=0, le=1)
    reasons: list[str]
    conditions: list[str] = Field(default_factory=list, description="What must hold while rolling out")
    vetoes: dict[str, str] = Field(default_factory=dict, description="Instance id → why it must not change")


class ReviewContext:
    """What a check may need to know of the cloud beyond the plan: the types sold where a change lands
    (read once per region for the whole review)."""

    def __init__(self, cloud: CloudProvider) -> None:
        self.cloud = cloud
        self._offers: dict[tuple[str, str], dict[str, InstanceTypeOffer]] = {}

    def offer(self, provider: str, region: str, name: str) -> InstanceTypeOffer | None:
        if (provider, region) not in self._offers:
            self._offers[(provider, region)] = {
                o.name: o for o in self.cloud.instance_types(provider, region)
            }
        return self._offers[(provider, region)].get(name)

    @property
    def regions(self) -> int:
        return len(self._offers)


# One agent's check of one change, as a rollout kind declares it: why it must not go ahead, or None.
Check = Callable[[Change, ReviewPolicy, ReviewContext], str | None]
Reviewer = Callable[[RolloutPlan, CloudProvider, ReviewPolicy, Check], Approval]


def no_check(change: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    """For a kind that asks nothing of an agent beyond its general checks."""
    return None


def verdict(
    agent: AgentName,
    plan: RolloutPlan,
    vetoes: dict[str, str],
    confidences: Iterable[float],
    reasons: list[str],
    conditions: list[str] | None = None,
) -> Approval:
    """An agent's Approval: approved while any change survives its vetoes."""
    kept = len(plan.changes) - len(vetoes)
    scores = list(confidences)
    summary = f"{kept} of {len(plan.changes)} changes pass" + (f", {len(vetoes)} vetoed" if vetoes else "")
    return Approval(
        agent=agent,
        approved=kept > 0,
        confidence=round(fmean(scores), 3) if scores else 0.0,
        reasons=[summary, *reasons],
        conditions=conditions or [],
        vetoes=vetoes,
    )
