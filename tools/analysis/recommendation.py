"""What every engine produces."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.analysis.kinds import KINDS, Kind
from tools.models import Instance

__all__ = [
    "KINDS",
    "Alternative",
    "Kind",
    "Recommendation",
    "ResourceKind",
    "RiskLevel",
    "clamp",
    "recommend_for",
    "risk_level",
]
RiskLevel = Literal["low", "medium", "high"]


class Alternative(BaseModel):
    """Another way to save on the same instance, not counted in any total: its opportunity is the best
    one, and the others are listed under it (as AWS Cost Optimization Hub does)."""

    kind: Kind
    action: str
    target: str
    monthly_savings: float
    note: str = ""


ResourceKind = Literal["instance", "volume", "snapshot", "address", "bucket"]


class Recommendation(BaseModel):
    """One change to one resource — an instance, or a volume, snapshot or public address — with the
    numbers that justify it."""

    instance_id: str = Field(
        description="The resource's id: an instance's, or the volume's, snapshot's, address's"
    )
    resource: ResourceKind = "instance"
    provider: str
    region: str
    application: str | None
    kind: Kind
    finding: str = Field(description="e.g. over-provisioned, under-provisioned, idle, spot-eligible")
    action: str = Field(
        description="resize, stop, terminate, migrate-to-spot, purchase-reservation, schedule-off-hours, "
        "delete-volume, modify-volume-type, delete-snapshot, release-address or change-storage-class"
    )
    current: str = Field(description="Current instance type, pricing model or the resource's state")
    target: str = Field(description="Recommended instance type, pricing model or the resource's end state")
    monthly_savings: float = Field(description="USD per month at catalog prices; negative = costs more")
    risk: RiskLevel
    risk_score: float = Field(ge=0, le=1)
    confidence: float = Field(ge=0, le=1)
    priority: float = Field(0.0, description="Higher first; see PrioritySettings")
    reasons: list[str]
    projected_cpu_pct: float | None = Field(None, description="Utilisation after the change, same percentile")
    projected_memory_pct: float | None = None
    projected_peak_cpu_pct: float | None = Field(None, description="The busiest hours' CPU after (P99.5)")
    alternatives: list[Alternative] = Field(
        default_factory=list, description="Other ways to save on this instance; not in any total"
    )


def recommend_for(inst: Instance, **advice: Any) -> Recommendation:
    """A recommendation about `inst`: its identity, plus the engine's advice."""
    return Recommendation(
        instance_id=inst.id,
        provider=inst.provider,
        region=inst.region,
        application=inst.application,
        **advice,
    )


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def risk_level(score: float) -> RiskLevel:
    return "low" if score < 0.34 else "medium" if score < 0.67 else "high"
