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
# The tag a volume's final snapshot carries with the volume's id, and the one a volume made again from it
# carries with the deleted volume's id.
FINAL_SNAPSHOT_TAG = "final-snapshot-of"
RESTORES_TAG = "restores"


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

    @classmethod
    def empty(
        cls, hours: float = 336.0, percentiles: tuple[float, ...] = (90.0, 95.0, 99.5)
    ) -> UtilisationSummary:
        """Of no machines at all."""
        none = np.zeros(0, np.float32)
        rows = np.zeros((len(percentiles), 0), np.float32)
        return cls(hours, percentiles, [], rows, rows, none, none, np.zeros(0, np.int32))

    def cpu(self, percentile: float) -> F32:
        return self.cpu_pct[self.percentiles.index(percentile)]

    def memory(self, percentile: float) -> F32:
        return self.memory_pct[self.percentiles.index(percentile)]


# -- what an account holds besides machines ------------------------------------------------------------
VolumeState = Literal["in-use", "available"]


class ResourceFilter(BaseModel):
    """Which volumes, snapshots or addresses to list; every given field must match. `state` is the
    resource's own (a volume's in-use/available, an address's in-use/idle)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: CloudName | None = None
    region: str | None = None
    state: str | None = None
    application: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    def tag_filter(self) -> dict[str, str]:
        """The tags to match, the application's among them (resources carry it as a tag)."""
        return {**self.tags, **({"application": self.application} if self.application else {})}


class Volume(BaseModel):
    """A block volume (EBS volume, managed disk, persistent disk), attached or not."""

    model_config = ConfigDict(frozen=True)

    id: str
    provider: CloudName
    region: str
    volume_type: str
    size_gb: int
    iops: float = Field(description="IOPS it delivers now")
    throughput_mbps: float
    provisioned_iops: float = 0.0
    provisioned_throughput_mbps: float = 0.0
    state: VolumeState
    attached_to: str | None = None
    created_at: datetime
    last_attached_at: datetime | None = Field(
        None, description="When it was detached; None while attached, or where the cloud does not say"
    )
    modifiable_at: datetime | None = Field(None, description="No type change before this (EBS: 6 h apart)")
    monthly_price: float = Field(description="USD a month at list price, as it is now")
    iops_p99: float | None = Field(None, description="Its workload's p99 IOPS, 14 days; None: no statistics")
    throughput_p99_mbps: float | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def application(self) -> str | None:
        return self.tags.get("application")


class Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    provider: CloudName
    region: str
    volume_id: str
    volume_exists: bool = Field(description="False when the volume it was taken of is gone")
    volume_size_gb: int
    size_gb: float = Field(description="GB stored: what is billed")
    state: Literal["completed", "recycle-bin"] = "completed"
    created_at: datetime
    recoverable_until: datetime | None = None
    monthly_price: float
    image_id: str | None = Field(
        None, description="The machine image it backs: not deletable while it exists"
    )
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def application(self) -> str | None:
        return self.tags.get("application")


class Address(BaseModel):
    """A public IP address allocated to the account (an Elastic IP, a public IP resource)."""

    model_config = ConfigDict(frozen=True)

    id: str
    provider: CloudName
    region: str
    public_ip: str
    state: Literal["in-use", "idle", "released"]
    attached_to: str | None = None
    allocated_at: datetime | None = None
    idle_since: datetime | None = Field(None, description="Where the cloud says: since when it is idle")
    released_at: datetime | None = None
    monthly_price: float
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def application(self) -> str | None:
        return self.tags.get("application")


class Bucket(BaseModel):
    """An object storage bucket (S3 bucket, Azure blob container, Cloud Storage bucket) and the storage class
    its objects are in."""

    model_config = ConfigDict(frozen=True)

    name: str
    provider: CloudName
    region: str
    storage_class: str = Field(description="S3 storage class, Azure access tier or Cloud Storage class")
    size_gb: float
    objects: int
    reads_gb_per_day: float | None = Field(
        None, description="GB read a day over the last 30 days; None where the cloud keeps no request metrics"
    )
    created_at: datetime
    class_since: datetime | None = Field(None, description="Since when its objects are in this class")
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.name

    @property
    def application(self) -> str | None:
        return self.tags.get("application")


class VolumeDeletion(BaseModel):
    volume: Volume
    final_snapshot: Snapshot | None
