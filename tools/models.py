"""What providers return: typed, provider-neutral models (pydantic where an LLM may read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

CloudName = Literal["aws", "gcp", "azure"]
PricingModel = Literal["on-demand", "spot", "reserved"]
InstanceState = Literal["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]
STABLE_STATES = frozenset({"running", "stopped", "terminated"})
F32 = npt.NDArray[np.float32]


# The tag a replacement (a spot migration, or its reversal) carries with the id of the instance it
# replaces: how the cloud itself, not our records, says what became of an instance.
REPLACES_TAG = "replaces"


class Instance(BaseModel):
    """A virtual machine as a cloud describes it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    provider: CloudName
    region: str
    instance_type: str
    pricing_model: PricingModel
    state: InstanceState
    launch_time: datetime
    tags: dict[str, str] = Field(default_factory=dict)
    vcpus: int
    memory_gb: float
    gpu_count: int = 0
    hourly_price: float = Field(description="Current USD per hour for this machine's pricing model")
    state_transition_until: datetime | None = None
    interruption_notice_at: datetime | None = None
    replaces: str | None = None
    replaced_by: str | None = None

    @property
    def application(self) -> str | None:
        return self.tags.get("application")


class InstanceFilter(BaseModel):
    """Which instances to list; every given field must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: CloudName | None = None
    region: str | None = None
    state: InstanceState | None = None
    pricing_model: PricingModel | None = None
    application: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class InstancePage(BaseModel):
    """One page of the instances matching a filter, in the cloud's order, and how many match in all."""

    total: int
    instances: list[Instance]


class InstanceTypeOffer(BaseModel):
    """An instance type as sold in one region, with hourly prices in USD."""

    model_config = ConfigDict(frozen=True)

    name: str
    provider: CloudName
    region: str
    family: str
    category: str
    vcpus: int
    memory_gb: float
    gpu_count: int
    on_demand_hourly: float
    spot_hourly: float
    reserved_hourly: float
    interruption_band: str = Field(
        description="Spot interruptions per month: <5%, 5-10%, 10-15%, 15-20%, >20%"
    )
    architecture: str = Field("x86_64", description="x86_64 or arm64: software runs on one of them")
    price_source: str = Field(
        "libcloud", description="libcloud, or estimated where the price data has a hole"
    )


class Migration(BaseModel):
    original: Instance
    replacement: Instance


class ApplicationQuality(BaseModel):
    """An application's p95 latency and error rate over a recent window."""

    application: str
    timestamps: list[datetime]
    p95_latency_ms: list[float]
    error_rate: list[float]
    baseline_latency_ms: float
    baseline_error_rate: float
    serving_replicas: int
    desired_replicas: int


@dataclass(frozen=True)
class TargetQuality:
    """Each machine that served an application (replaced ones included), with its own p95 latency and
    error rate, as a load balancer reports them per target: rows follow `instance_ids`, columns
    `timestamps` (unix seconds, `step_seconds` apart); NaN where the machine was not serving."""

    application: str
    step_seconds: int
    timestamps: npt.NDArray[np.float64]
    instance_ids: list[str]
    p95_latency_ms: F32
    error_rate: F32

    def row(self, instance_id: str) -> int:
        return self.instance_ids.index(instance_id)


class CostGroup(BaseModel):
    key: str
    amount: float
    daily: list[float] | None = Field(None, description="Its amount on each of the breakdown's `days`")


class CostBreakdown(BaseModel):
    """Accrued cost in USD over [start, end); `groups` add up to `total`. A daily breakdown also gives each
    group's amount per UTC day (`days`, and each group's `daily`); without group_by, one group "total"."""

    start: datetime
    end: datetime
    group_by: str | None
    total: float
    groups: list[CostGroup]
    days: list[date] | None = None


@dataclass(frozen=True)
class MetricSeries:
    """One instance's metrics, columnar; points only where it ran."""

    instance_id: str
    period: int
    timestamps: npt.NDArray[np.float64]  # unix seconds
    cpu_pct: F32
    memory_pct: F32
    network_mbps: F32


@dataclass(frozen=True)
class UtilisationSummary:
    """Per instance (aligned on `instance_ids`): hourly CPU/memory percentiles and means over `hours`.

    `cpu_pct[i]` and `memory_pct[i]` hold percentile `percentiles[i]` for every instance; NaN = no data.
    """

    hours: float
    percentiles: tuple[float, ...]
    instance_ids: list[str]
    cpu_pct: F32
    memory_pct: F32
    cpu_mean_pct: F32
    network_mean_mbps: F32
    observed_hours: npt.NDArray[np.int32]

    def cpu(self, percentile: float) -> F32:
        return self.cpu_pct[self.percentiles.index(percentile)]

    def memory(self, percentile: float) -> F32:
        return self.memory_pct[self.percentiles.index(percentile)]
