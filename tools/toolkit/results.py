"""Typed results the tools return (beyond the provider's own models)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.analysis.engine import SavingsSummary
from tools.analysis.ledger import Ledger
from tools.analysis.recommendation import Recommendation
from tools.analysis.spot import SpotAssessment
from tools.models import Instance


class InstanceList(BaseModel):
    total: int = Field(description="How many instances match")
    instances: list[Instance] = Field(description="The first `limit` of them")


class MetricsSummary(BaseModel):
    """Statistics of an instance's hourly (or finer) utilisation over a window."""

    instance_id: str
    hours: float
    points: int
    cpu_mean_pct: float | None
    cpu_p50_pct: float | None
    cpu_p95_pct: float | None
    cpu_max_pct: float | None
    memory_p95_pct: float | None
    memory_max_pct: float | None
    network_mean_mbps: float | None


class SavingsReport(BaseModel):
    """The ledger's opportunities in a scope: totals over all of them, the best `limit` listed."""

    instances_analysed: int
    volumes_analysed: int = 0
    snapshots_analysed: int = 0
    addresses_analysed: int = 0
    buckets_analysed: int = 0
    notes: list[str] = Field(default_factory=list, description="What could not be analysed, and why")
    summary: SavingsSummary = Field(description="Every opportunity in scope, not only those listed")
    recommendations: list[Recommendation] = Field(description="Highest priority first, at most `limit`")
    instance_ids: list[str] = Field(description="Every resource with an opportunity, listed or not")
    under_provisioned: int = Field(0, description="Machines to size up instead (a cost, not a saving)")
    under_provisioned_monthly_cost: float = Field(0.0, description="What sizing those up adds a month, USD")

    @classmethod
    def of(cls, ledger: Ledger, limit: int) -> SavingsReport:
        return cls(
            instances_analysed=ledger.instances_analysed,
            volumes_analysed=ledger.volumes_analysed,
            snapshots_analysed=ledger.snapshots_analysed,
            addresses_analysed=ledger.addresses_analysed,
            buckets_analysed=ledger.buckets_analysed,
            notes=ledger.notes,
            summary=ledger.summary,
            recommendations=ledger.opportunities[:limit],
            instance_ids=list(dict.fromkeys(r.instance_id for r in ledger.opportunities)),
            under_provisioned=len(ledger.under_provisioned),
            under_provisioned_monthly_cost=ledger.under_provisioned_monthly_cost,
        )


class RightsizingReport(BaseModel):
    findings: dict[str, int] = Field(
        description="Instances per finding: over-, under-provisioned, optimized, ..."
    )
    savings: SavingsReport = Field(description="The money-saving resizes (the ledger's), best first")
    under_provisioned: list[Recommendation] = Field(
        description="Machines to size up, largest cost increase first, at most `limit`"
    )


class SpotReport(BaseModel):
    eligible: int
    not_eligible: int
    assessments: list[SpotAssessment]


class QualitySummary(BaseModel):
    """A service's health: the window's quality against its own normal — the same minutes of the previous
    days — rather than against an idle machine's latency, which a busy service always exceeds."""

    application: str
    minutes: float
    latest_p95_latency_ms: float
    max_p95_latency_ms: float
    p95_latency_ms: float = Field(description="Median p95 latency over the window")
    normal_p95_latency_ms: float = Field(description="Median p95 over the same minutes of the previous days")
    latency_vs_normal_pct: float = Field(description="The window's p95 relative to its normal, in %")
    baseline_latency_ms: float = Field(description="Its latency on an idle machine")
    load_factor: float = Field(description="Its p95 as a multiple of the idle latency: queueing, i.e. load")
    latest_error_rate: float
    max_error_rate: float
    error_rate: float = Field(description="Median error rate over the window")
    normal_error_rate: float
    serving_replicas: int
    desired_replicas: int
    degraded: bool = Field(description="Worse than its normal, or replicas missing")
    saturated: bool = Field(description="Running so hot that queueing dominates its latency")
    reasons: list[str] = Field(description="Why it is flagged, in words; empty when healthy")


class ApplicationSummary(BaseModel):
    name: str
    team: str | None
    environment: str | None
    tier: str | None
    stateful: bool
    instances: int
    providers: list[str]
    regions: list[str]
    hourly_cost: float = Field(description="Current USD/h of its running instances")
