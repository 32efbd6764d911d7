"""Accrued costs: compute while running, block storage while the machine exists, summed per time bucket.

Compute is billed for running time at the hourly price of the type and pricing model in effect (spot at the
market price of each hour); storage for the machine's volume from launch until termination, stopped or not,
which is why an idle stopped machine still costs something. The account's other resources (data volumes,
snapshots, public addresses: `storage.StorageEstate`) are billed beside the machines, each as its own row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from mock_cloud.catalog import Catalog
from mock_cloud.errors import InvalidParameterValue
from mock_cloud.faults import CostSpike
from mock_cloud.instances import Instance
from mock_cloud.spot import SpotMarket
from mock_cloud.storage import Billed, BilledRows
from mock_cloud.workloads import DAY, F64, HOUR

# Block storage, USD per GB-month: EBS gp3 (aws.amazon.com/ebs/pricing), GCP balanced persistent disk
# (cloud.google.com/compute/disks-image-pricing), Azure Standard SSD managed disks, averaged over tiers
# (azure.microsoft.com/pricing/details/managed-disks).
STORAGE_GB_MONTH = {"aws": 0.08, "gcp": 0.10, "azure": 0.075}
HOURS_PER_MONTH = 730.0

GROUPINGS = (
    "provider",
    "region",
    "service",
    "day",
    "instance_type",
    "pricing_model",
    "application",
    "instance",
    "tag:<key>",
)
SERVICES = ("compute", "storage")


@dataclass(frozen=True)
class CostGroup:
    key: str
    amount: float
    daily: list[float] | None = None  # per UTC day of the report's `days`, when asked for


@dataclass(frozen=True)
class CostReport:
    start: float
    end: float
    group_by: str | None
    total: float
    groups: list[CostGroup]
    currency: str = "USD"
    days: list[str] | None = None  # the UTC days (ISO dates) a daily report's `CostGroup.daily` follow


@dataclass
class CostMatrix:
    """Cost per instance (rows) and time bucket (columns), split by service; and of the account's other
    resources (volumes, snapshots, addresses: `others`, one row each in `other_cost`)."""

    instances: list[Instance]
    edges: F64
    compute: npt.NDArray[np.float64]
    storage: npt.NDArray[np.float64]
    others: list[Billed] = field(default_factory=list)
    other_cost: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))

    def with_resources(self, billed: BilledRows) -> CostMatrix:
        """This matrix and the resources' cost in the same buckets."""
        cost = np.zeros((len(billed.keys), len(self.edges) - 1))
        if billed.rows:
            hours = _overlap_hours(np.asarray(billed.starts), np.asarray(billed.ends), self.edges)
            np.add.at(cost, np.asarray(billed.rows), hours * np.asarray(billed.hourly)[:, None])
        return CostMatrix(self.instances, self.edges, self.compute, self.storage, billed.keys, cost)


def _overlap_hours(starts: F64, ends: F64, edges: F64) -> npt.NDArray[np.float64]:
    low = np.maximum(starts[:, None], edges[None, :-1])
    high = np.minimum(ends[:, None], edges[None, 1:])
    return np.clip(high - low, 0.0, None) / HOUR


def running_seconds(inst: Instance, edges: F64) -> npt.NDArray[np.float64]:
    """Seconds the instance ran in each bucket between consecutive `edges` (what an uptime metric counts)."""
    end_of_life = inst.terminated_at if inst.terminated_at is not None else np.inf
    spans = [
        (seg.start, min(inst.history[i + 1].start if i + 1 < len(inst.history) else np.inf, end_of_life))
        for i, seg in enumerate(inst.history)
        if seg.running
    ]
    if not spans:
        return np.zeros(len(edges) - 1)
    starts, ends = (np.asarray(side, np.float64) for side in zip(*spans, strict=True))
    return _overlap_hours(starts, ends, edges).sum(axis=0) * HOUR


def cost_matrix(
    instances: list[Instance],
    edges: F64,
    catalog: Catalog,
    spot: SpotMarket,
    spikes: Sequence[CostSpike] = (),
) -> CostMatrix:
    """Accrued cost of each instance in each bucket between consecutive `edges` (unix seconds), with each
    cost spike's extra compute in the hours it overlaps."""
    rows, starts, ends, hourly = [], [], [], []
    spot_key_of: dict[tuple[str, str, str], int] = {}
    spot_index = []  # per segment: index into spot_key_of, or -1 for a fixed price
    for row, inst in enumerate(instances):
        end_of_life = inst.terminated_at if inst.terminated_at is not None else np.inf
        segments = inst.history
        for i, seg in enumerate(segments):
            if not seg.running:
                continue
            rows.append(row)
            starts.append(seg.start)
            ends.append(min(segments[i + 1].start if i + 1 < len(segments) else np.inf, end_of_life))
            if inst.pricing_model == "spot":
                key = (inst.provider, inst.region, seg.instance_type)
                spot_index.append(spot_key_of.setdefault(key, len(spot_key_of)))
                hourly.append(0.0)
            else:
                spot_index.append(-1)
                hourly.append(
                    catalog.get(inst.provider, seg.instance_type).price(inst.region, inst.pricing_model)
                )
    buckets = len(edges) - 1
    compute = np.zeros((len(instances), buckets))
    if rows:
        hours = _overlap_hours(np.asarray(starts), np.asarray(ends), edges)
        fixed = np.asarray(hourly)[:, None] * np.ones(buckets)
        index = np.asarray(spot_index)
        if spot_key_of:
            market = _spot_bucket_prices(list(spot_key_of), edges, spot)
            price = np.where(index[:, None] >= 0, market[np.maximum(index, 0)], fixed)
        else:
            price = fixed
        np.add.at(compute, np.asarray(rows), hours * price)
        for spike in spikes:
            _add_spike(compute, spike, instances, rows, starts, ends, edges, price)
    launch = np.fromiter((i.launch_time for i in instances), np.float64, len(instances))
    gone = np.fromiter(
        (i.terminated_at if i.terminated_at is not None else np.inf for i in instances),
        np.float64,
        len(instances),
    )
    storage_hourly = np.fromiter(
        (i.volume_gb * STORAGE_GB_MONTH[i.provider] / HOURS_PER_MONTH for i in instances),
        np.float64,
        len(instances),
    )
    storage = _overlap_hours(launch, gone, edges) * storage_hourly[:, None]
    return CostMatrix(instances, edges, compute, storage)


def _add_spike(
    compute: npt.NDArray[np.float64],
    spike: CostSpike,
    instances: list[Instance],
    rows: list[int],
    starts: list[float],
    ends: list[float],
    edges: F64,
    price: npt.NDArray[np.float64],
) -> None:
    """The spike's extra: (factor − 1) × the price of each running segment, for its hours inside the spike."""
    hit = [spike.matches(inst) for inst in instances]
    segments = np.flatnonzero([hit[row] for row in rows])
    if not len(segments):
        return
    low = np.maximum(np.asarray(starts)[segments], spike.start)
    high = np.minimum(np.asarray(ends)[segments], spike.end)
    hours = _overlap_hours(low, np.maximum(high, low), edges)
    np.add.at(compute, np.asarray(rows)[segments], (spike.factor - 1.0) * hours * price[segments])


def _spot_bucket_prices(
    keys: list[tuple[str, str, str]], edges: F64, spot: SpotMarket
) -> npt.NDArray[np.float64]:
    """Mean spot price per (provider, region, type) row and bucket: usage is billed per market hour."""
    first, last = np.floor(edges[0] / HOUR), np.ceil(edges[-1] / HOUR)
    hour_starts = np.arange(first, last) * HOUR
    bucket_of_hour = np.clip(np.searchsorted(edges, hour_starts, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(bucket_of_hour, minlength=len(edges) - 1).astype(np.float64)
    out = np.empty((len(keys), len(edges) - 1))
    for row, key in enumerate(keys):
        sums = np.bincount(bucket_of_hour, weights=spot.prices(*key, hour_starts), minlength=len(edges) - 1)
        out[row] = sums / np.maximum(counts, 1)
    return out


def day_edges(start: float, end: float) -> F64:
    """Bucket edges at UTC midnights, clipped to [start, end]."""
    if end <= start:
        raise InvalidParameterValue("the cost window's end must be after its start")
    midnights = np.arange(np.floor(start / DAY) + 1, np.ceil(end / DAY)) * DAY
    return np.concatenate([[start], midnights, [end]])


def _key_function(group_by: str) -> Callable[[Instance | Billed], str]:
    if group_by.startswith("tag:") and len(group_by) > 4:
        tag = group_by[4:]
        return lambda inst: inst.tags.get(tag, "(untagged)")
    simple: dict[str, Callable[[Instance | Billed], str]] = {
        "provider": lambda inst: inst.provider,
        "region": lambda inst: f"{inst.provider}/{inst.region}",
        "instance_type": lambda inst: inst.instance_type,
        "pricing_model": lambda inst: inst.pricing_model,
        "application": lambda inst: inst.application,
        "instance": lambda inst: inst.id,
    }
    if group_by not in simple:
        raise InvalidParameterValue(f"Unknown group_by '{group_by}'; expected one of: {', '.join(GROUPINGS)}")
    return simple[group_by]


def check_group_by(group_by: str | None) -> None:
    """Refuse an unknown grouping before any cost is computed."""
    if group_by is not None and group_by not in ("service", "day"):
        _key_function(group_by)


def cost_report(matrix: CostMatrix, group_by: str | None, daily: bool = False) -> CostReport:
    """Total over the window and, with `group_by`, its split; the groups always add up to the total. With
    `daily` (and day buckets), each group also has its amount per day, as Cost Explorer's DAILY
    granularity gives it."""
    start, end = float(matrix.edges[0]), float(matrix.edges[-1])
    per_bucket = matrix.compute + matrix.storage
    if len(matrix.others):
        per_bucket = np.vstack([per_bucket, matrix.other_cost])
    total = float(per_bucket.sum())
    days = [datetime.fromtimestamp(e, tz=UTC).date().isoformat() for e in matrix.edges[:-1]]
    if group_by is None:
        whole = [CostGroup("total", total, per_bucket.sum(axis=0).tolist())] if daily else []
        return CostReport(start, end, None, total, whole, days=days if daily else None)
    series: dict[str, npt.NDArray[np.float64]]  # per group, its amount in each bucket
    if group_by == "service":
        series = {"compute": matrix.compute.sum(axis=0), "storage": matrix.storage.sum(axis=0)}
        for billed, row in zip(matrix.others, matrix.other_cost, strict=True):
            series[billed.service] = series.get(billed.service, 0.0) + row
    elif group_by == "day":
        # Each day's group has its amount on that day and nothing on the others.
        series = dict(zip(days, np.diag(per_bucket.sum(axis=0)), strict=True))
    else:
        key_of = _key_function(group_by)
        keys = [key_of(inst) for inst in matrix.instances] + [key_of(b) for b in matrix.others]
        labels, index = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        sums = np.zeros((len(labels), per_bucket.shape[1]))
        np.add.at(sums, index, per_bucket)
        series = dict(zip([str(label) for label in labels], sums, strict=True))
    groups = sorted(
        (CostGroup(k, float(v.sum()), v.tolist() if daily else None) for k, v in series.items()),
        key=lambda g: (-g.amount, g.key),
    )
    return CostReport(start, end, group_by, total, groups, days=days if daily else None)
