"""Request and response models of the simulator's REST API (kept apart from the domain dataclasses)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from mock_cloud.catalog import PricingModel, Provider
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, MAX_FLEET_SIZE
from mock_cloud.costs import CostReport
from mock_cloud.metrics import FleetUtilisation, MetricSeries
from mock_cloud.quality import QualityReport, TargetQuality


class ErrorBody(BaseModel):
    code: str = Field(description="Cloud-style error code, e.g. IncorrectInstanceState")
    message: str
    retryable: bool = False
    details: list[dict[str, object]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class InstanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    provider: Provider
    region: str
    instance_type: str
    pricing_model: PricingModel
    state: str
    launch_time: datetime
    application: str
    tags: dict[str, str]
    vcpus: int
    memory_gb: float
    gpu_count: int
    hourly_price: float = Field(description="Current USD per hour (spot: the market price now)")
    volume_gb: int
    state_transition_until: datetime | None = Field(description="When a pending/stopping state ends")
    interruption_notice_at: datetime | None
    interruption_at: datetime | None = Field(description="Known only once a spot interruption notice is out")
    replaces: str | None
    replaced_by: str | None


class InstancePage(BaseModel):
    instances: list[InstanceOut]
    total: int
    offset: int
    limit: int


class ResizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_type: str = Field(min_length=1, max_length=64, description="Target type, e.g. m5.large")


class TagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: dict[str, str] = Field(default_factory=dict, description="Tags to set (added or overwritten)")
    remove: list[str] = Field(default_factory=list, description="Tag keys to remove; absent ones are ignored")


class MigrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pricing_model: Literal["spot", "on-demand"]


class MigrationOut(BaseModel):
    original: InstanceOut
    replacement: InstanceOut


class MetricsOut(BaseModel):
    instance_id: str
    period: int
    timestamps: list[datetime]
    cpu_pct: list[float]
    memory_pct: list[float]
    gpu_pct: list[float] | None
    network_in_mbps: list[float]
    network_out_mbps: list[float]

    @classmethod
    def of(cls, m: MetricSeries) -> MetricsOut:
        return cls(
            instance_id=m.instance_id,
            period=m.period,
            timestamps=[utc(t) for t in m.timestamps.tolist()],
            cpu_pct=_rounded(m.cpu_pct.tolist()),
            memory_pct=_rounded(m.memory_pct.tolist()),
            gpu_pct=_rounded(m.gpu_pct.tolist()) if m.gpu_pct is not None else None,
            network_in_mbps=_rounded(m.network_in_mbps.tolist()),
            network_out_mbps=_rounded(m.network_out_mbps.tolist()),
        )


class UtilisationSummaryOut(BaseModel):
    """Per live instance (columnar, aligned on `instance_ids`): hourly CPU/memory percentiles and means."""

    hours: float
    percentiles: list[float]
    instance_ids: list[str]
    cpu_pct: list[list[float | None]] = Field(description="One row per percentile; null without data")
    memory_pct: list[list[float | None]]
    cpu_mean_pct: list[float | None]
    network_mean_mbps: list[float | None]
    observed_hours: list[int]

    @classmethod
    def of(cls, u: FleetUtilisation) -> UtilisationSummaryOut:
        return cls(
            hours=u.hours,
            percentiles=list(u.percentiles),
            instance_ids=u.instance_ids,
            cpu_pct=[_nullable(row) for row in u.cpu_pct],
            memory_pct=[_nullable(row) for row in u.memory_pct],
            cpu_mean_pct=_nullable(u.cpu_mean_pct),
            network_mean_mbps=_nullable(u.network_mean_mbps),
            observed_hours=u.observed_hours.tolist(),
        )


class QualityOut(BaseModel):
    application: str
    timestamps: list[datetime]
    p95_latency_ms: list[float]
    error_rate: list[float]
    baseline_latency_ms: float
    baseline_error_rate: float
    serving_replicas: int
    desired_replicas: int

    @classmethod
    def of(cls, q: QualityReport) -> QualityOut:
        return cls(
            application=q.application,
            timestamps=[utc(t) for t in q.timestamps.tolist()],
            p95_latency_ms=_rounded(q.p95_latency_ms.tolist()),
            error_rate=[round(v, 5) for v in q.error_rate.tolist()],
            baseline_latency_ms=q.baseline_latency_ms,
            baseline_error_rate=q.baseline_error_rate,
            serving_replicas=q.serving_replicas,
            desired_replicas=q.desired_replicas,
        )


class TargetOut(BaseModel):
    instance_id: str
    p95_latency_ms: list[float | None] = Field(description="null where it was not serving")
    error_rate: list[float | None]


class TargetQualityOut(BaseModel):
    application: str
    step: int
    timestamps: list[datetime]
    targets: list[TargetOut]

    @classmethod
    def of(cls, q: TargetQuality, step: int) -> TargetQualityOut:
        return cls(
            application=q.application,
            step=step,
            timestamps=[utc(t) for t in q.timestamps.tolist()],
            targets=[
                TargetOut(
                    instance_id=iid,
                    p95_latency_ms=_nullable(q.p95_latency_ms[row]),
                    error_rate=_nullable(q.error_rate[row], 6),
                )
                for row, iid in enumerate(q.instance_ids)
            ],
        )


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    team: str
    environment: str
    tier: str
    stateful: bool
    profile: str
    provider: Provider
    region: str
    replicas: int
    instance_ids: list[str]


class OfferingOut(BaseModel):
    name: str
    provider: Provider
    region: str
    family: str
    category: str
    vcpus: int
    memory_gb: float
    gpu_count: int
    on_demand_hourly: float
    spot_hourly: float
    reserved_hourly: float
    interruption_band: str
    architecture: str = Field(description="x86_64 or arm64 (AWS Graviton)")
    price_source: str = Field(description="libcloud, or estimated where the bundled data has a hole")


class CostGroupOut(BaseModel):
    key: str
    amount: float
    daily: list[float] | None = Field(None, description="With daily=true: the amount on each of `days`")


class CostsOut(BaseModel):
    start: datetime
    end: datetime
    group_by: str | None
    currency: str
    total: float
    groups: list[CostGroupOut]
    days: list[date] | None = Field(
        None, description="With daily=true: the UTC days each group's `daily` follows"
    )

    @classmethod
    def of(cls, r: CostReport) -> CostsOut:
        return cls(
            start=utc(r.start),
            end=utc(r.end),
            group_by=r.group_by,
            currency=r.currency,
            total=round(r.total, 6),
            groups=[
                CostGroupOut(
                    key=g.key,
                    amount=round(g.amount, 6),
                    daily=[round(v, 6) for v in g.daily] if g.daily is not None else None,
                )
                for g in r.groups
            ],
            days=[date.fromisoformat(d) for d in r.days] if r.days is not None else None,
        )


class PricePoint(BaseModel):
    timestamp: datetime
    amount: float


class FaultRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1, description="Chance a call fails with ServiceUnavailable")
    throttle_rate: float = Field(0.0, ge=0, le=1, description="Chance a call fails with RequestLimitExceeded")
    capacity_error_rate: float = Field(
        0.0, ge=0, le=1, description="Chance start/resize/migrate fail with InsufficientInstanceCapacity"
    )
    latency_seconds: float = Field(0.0, ge=0, le=3600, description="Simulated seconds added to each call")
    slow_answer_rate: float = Field(
        0.0, ge=0, le=1, description="Chance a call that succeeds has its answer held (its change is made)"
    )
    slow_answer_seconds: float = Field(
        0.0, ge=0, le=60, description="Wall seconds a slow answer is held: past a client's timeout, it "
        "sees a timeout for a call that happened",
    )  # fmt: skip


class DegradationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_factor: float = Field(ge=1, le=100)
    error_rate_increase: float = Field(0.0, ge=0, le=1)


class CostSpikeIn(BaseModel):
    """Bill the matching machines' compute `factor` times over from `start` to `end` (past or future)."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="When the spike starts (ISO 8601; may lie in the past)")
    end: datetime = Field(description="When it ends")
    factor: float = Field(gt=0, le=100, description="Compute billed this many times over (1.5 = +50 %)")
    provider: str | None = Field(None, description="Only this cloud's machines")
    region: str | None = Field(None, description="Only this region's machines")
    application: str | None = Field(None, description="Only this application's machines")
    tags: dict[str, str] = Field(default_factory=dict, description="Only machines with all these tags")
    instance_ids: list[str] = Field(default_factory=list, description="Only these machines")


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: dict[str, FaultRuleIn] = Field(
        default_factory=dict, description="Per operation name, or '*' for every operation"
    )
    degradation: DegradationIn | None = Field(
        None, description="Degrade the quality of applications changed from now on"
    )
    cost_spikes: list[CostSpikeIn] = Field(
        default_factory=list, description="Spikes on the bill, for anomaly scenarios", max_length=100
    )


class FaultsOut(BaseModel):
    rules: dict[str, FaultRuleIn]
    degradation: DegradationIn | None
    cost_spikes: list[CostSpikeIn] = Field(default_factory=list)


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, le=365 * 86400)


class ClockOut(BaseModel):
    now: datetime
    speed: float


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(DEFAULT_SEED, ge=0, le=2**32 - 1)
    size: int = Field(DEFAULT_SIZE, ge=0, le=MAX_FLEET_SIZE)
    provider_mix: dict[Provider, float] | None = Field(None, description="Relative weights, e.g. {'aws': 2}")


class ResetOut(BaseModel):
    seed: int
    size: int
    applications: int
    now: datetime


class EventOut(BaseModel):
    time: datetime
    kind: str
    instance_id: str
    detail: str


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _nullable(values: npt.NDArray[np.float32], digits: int = 4) -> list[float | None]:
    """JSON has no NaN: a machine without data gets null."""
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 3) for v in values]
