"""Waste beyond machines: unattached volumes, volumes of a dearer type than their workload needs, old
snapshots, idle public addresses — what Komiser, Cloud Custodian, AWS Trusted Advisor and Azure Advisor find
first, because nobody is using it.

Each engine selects on columns (`select_*`: every resource at once; ranking a volume's snapshots is one
sort of the whole account), then writes a recommendation, with the numbers behind it, for each resource it
flags (`advise_*`, which bench/bench_storage.py's plain loop shares). At 1,000,000 snapshots selecting takes
about a second; writing the recommendations — 600,000 of them in that benchmark — is nine tenths of the time.
Prices are the published list prices the simulator is priced with (mock_cloud/catalog/storage.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from mock_cloud.catalog.storage import SNAPSHOT_GB_MONTH, VOLUME_TYPES, region_factor
from tools.analysis.buckets import bucket_tiers
from tools.analysis.kinds import STORAGE_KINDS, Kind
from tools.analysis.recommendation import Recommendation, ResourceKind, RiskLevel, clamp
from tools.analysis.settings import StorageSettings
from tools.errors import UnsupportedOperationError
from tools.models import FINAL_SNAPSHOT_TAG, Address, Bucket, InstanceFilter, ResourceFilter, Snapshot, Volume
from tools.provider import CloudProvider

F64 = npt.NDArray[np.float64]
DAY = 86400.0


@dataclass
class StorageInventory:
    """What the storage engines read: the volumes, snapshots and addresses in a scope, at a moment."""

    now: datetime
    volumes: list[Volume] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read, and why


def collect_storage(
    cloud: CloudProvider, scope: InstanceFilter | None, kinds: Iterable[Kind], now: datetime
) -> StorageInventory:
    """The inventory the asked kinds need, read with one listing per resource type. A scope by pricing
    model or state is about machines: it holds no volumes. A cloud without them says so in `notes`."""
    wanted = set(kinds)
    inventory = StorageInventory(now)
    f = scope or InstanceFilter()
    if f.pricing_model is not None:
        return inventory
    resources = ResourceFilter(provider=f.provider, region=f.region, application=f.application, tags=f.tags)
    try:
        if wanted & {"unattached_volume", "volume_type"}:
            inventory.volumes = cloud.list_volumes(resources)
        if "old_snapshot" in wanted:
            inventory.snapshots = cloud.list_snapshots(resources)
        if "idle_address" in wanted:
            inventory.addresses = cloud.list_addresses(resources)
        if "bucket_tier" in wanted:
            inventory.buckets = cloud.list_buckets(resources)
    except UnsupportedOperationError as exc:
        inventory.notes.append(exc.message)
    return inventory


def storage_findings(
    inventory: StorageInventory,
    kinds: Iterable[Kind] = STORAGE_KINDS,
    settings: StorageSettings | None = None,
) -> list[Recommendation]:
    """Every asked storage kind's recommendations; one per resource (an unattached volume is not also
    advised a type move)."""
    settings = settings or StorageSettings()
    wanted = set(kinds)
    found: list[Recommendation] = []
    if "unattached_volume" in wanted:
        found += unattached_volumes(inventory, settings)
    if "volume_type" in wanted:
        found += volume_type_moves(inventory, settings)
    if "old_snapshot" in wanted:
        found += old_snapshots(inventory, settings)
    if "idle_address" in wanted:
        found += idle_addresses(inventory, settings)
    if "bucket_tier" in wanted:
        found += bucket_tiers(inventory.buckets, inventory.now, settings)
    return found


def _epoch(moments: Iterable[datetime | None], n: int) -> F64:
    return np.fromiter((math.nan if m is None else m.timestamp() for m in moments), np.float64, n)


def _advice(resource: Any, what: ResourceKind, **advice: Any) -> Recommendation:
    return Recommendation(
        instance_id=resource.id,
        resource=what,
        provider=resource.provider,
        region=resource.region,
        application=resource.tags.get("application"),
        **advice,
    )


def final_snapshot_month(v: Volume) -> float:
    """What a final snapshot of the volume costs a month while it is kept: at most its whole size (a
    snapshot stores the used blocks only), so savings net of it are never overstated."""
    return v.size_gb * SNAPSHOT_GB_MONTH[v.provider] * region_factor(v.provider, v.region)


# -- unattached volumes ---------------------------------------------------------------------------------
def unattached_volumes(inventory: StorageInventory, settings: StorageSettings) -> list[Recommendation]:
    rows, days, known = select_unattached(inventory, settings)
    found = (advise_unattached(inventory.volumes[r], float(days[r]), bool(known[r]), settings) for r in rows)
    return [r for r in found if r is not None]


def select_unattached(
    inventory: StorageInventory, settings: StorageSettings
) -> tuple[list[int], F64, npt.NDArray[np.bool_]]:
    """The rows of the available volumes unattached long enough; each volume's days so, and whether the
    cloud said since when."""
    vols = inventory.volumes
    n, now = len(vols), inventory.now.timestamp()
    available = np.fromiter((v.state == "available" for v in vols), np.bool_, n)
    detached = _epoch((v.last_attached_at for v in vols), n)
    created = _epoch((v.created_at for v in vols), n)
    known = ~np.isnan(detached)
    # Where the cloud does not say when it was detached (EC2 does not), its age is the most it can have been.
    days = (now - np.where(known, detached, created)) / DAY
    return np.flatnonzero(available & (days >= settings.unattached_days)).tolist(), days, known


def advise_unattached(
    v: Volume, days: float, known: bool, settings: StorageSettings
) -> Recommendation | None:
    """The advice for an available volume unattached for `days` (`known`: the cloud said since when)."""
    snapshot = final_snapshot_month(v)
    savings = round(v.monthly_price - snapshot, 2)
    if savings < settings.min_monthly_savings:
        return None
    when = (
        f"unattached since {v.last_attached_at.date().isoformat()} ({days:.0f} days, "
        f"≥ {settings.unattached_days:g})"
        if known and v.last_attached_at is not None
        else f"unattached, created {days:.0f} days ago (the cloud does not record when it was detached)"
    )
    risk: RiskLevel = "low" if known and days >= 30 else "medium"
    return _advice(
        v, "volume",
        kind="unattached_volume", finding="unattached", action="delete-volume",
        current=f"{v.volume_type} {v.size_gb} GB", target="deleted",
        monthly_savings=savings, risk=risk, risk_score=0.2 if risk == "low" else 0.45,
        confidence=round(clamp(days / 30, 0.3, 1.0) if known else 0.5, 3),
        reasons=[
            when,
            f"{v.volume_type} {v.size_gb} GB costs {v.monthly_price:.2f} USD/month, attached to nothing",
            f"a final snapshot is taken first (at most {snapshot:.2f} USD/month while kept), so the volume "
            "can be made again from it",
        ],
    )  # fmt: skip


# -- a cheaper volume type with the workload's performance kept -----------------------------------------
def _gp3_for(iops: float, mbps: float, size_gb: int) -> tuple[float, float] | None:
    """gp3 provisioned to deliver `iops` and `mbps` (0 where its own 3,000 / 125 suffice), or None if gp3
    cannot (16,000 IOPS, 1,000 MB/s, 500 IOPS per GB at most)."""
    gp3 = VOLUME_TYPES[("aws", "gp3")]
    if iops > min(gp3.max_iops, 500 * size_gb) or mbps > gp3.max_mbps:
        return None
    need_iops = 0.0 if iops <= gp3.included_iops else float(math.ceil(iops / 100) * 100)
    need_mbps = 0.0 if mbps <= gp3.included_mbps else float(math.ceil(mbps / 5) * 5)
    return need_iops, need_mbps


def volume_type_moves(inventory: StorageInventory, settings: StorageSettings) -> list[Recommendation]:
    """EBS gp2 and io1 volumes in use, moved to gp3 provisioned for their workload's p99 IOPS and
    throughput plus headroom. EBS changes a volume's type online; an Azure disk's SKU changes only while its
    VM is deallocated and a persistent disk's never in place, so those are not advised here."""
    vols = inventory.volumes
    out = []
    for v in vols:
        if v.provider != "aws" or v.state != "in-use" or v.volume_type not in ("gp2", "io1"):
            continue
        if v.iops_p99 is None or v.throughput_p99_mbps is None:
            continue  # no statistics: performance kept cannot be shown
        want_iops = v.iops_p99 * (1 + settings.iops_headroom)
        want_mbps = v.throughput_p99_mbps * (1 + settings.iops_headroom)
        target = _gp3_for(want_iops, want_mbps, v.size_gb)
        if target is None:
            continue
        iops, mbps = target
        gp3 = VOLUME_TYPES[("aws", "gp3")]
        price = gp3.month(v.size_gb, iops, mbps, region_factor(v.provider, v.region))
        savings = round(v.monthly_price - price, 2)
        if savings < settings.min_monthly_savings:
            continue
        delivered_iops, delivered_mbps = gp3.performance(v.size_gb, iops, mbps)
        risky = v.volume_type == "io1"  # io1's latency and durability promises are gp3's lesser ones
        out.append(
            _advice(
                v, "volume",
                kind="volume_type", finding="dearer-type", action="modify-volume-type",
                current=volume_type_label(v.volume_type, v.provisioned_iops, v.provisioned_throughput_mbps),
                target=volume_type_label("gp3", iops, mbps),
                monthly_savings=savings, risk="medium" if risky else "low", risk_score=0.4 if risky else 0.15,
                confidence=0.9,
                reasons=[
                    f"p99 over 14 days: {v.iops_p99:,.0f} IOPS and {v.throughput_p99_mbps:,.1f} MB/s; gp3 as "
                    f"proposed delivers {delivered_iops:,.0f} IOPS and {delivered_mbps:,.0f} MB/s "
                    f"(≥ p99 + {settings.iops_headroom:.0%})",
                    f"{v.volume_type} {v.size_gb} GB costs {v.monthly_price:.2f} USD/month, gp3 {price:.2f}",
                    "EBS changes the type online (no detach, no restart); it can be changed back after six "
                    "hours",
                ],
            )
        )  # fmt: skip
    return out


def volume_type_label(name: str, iops: float, mbps: float) -> str:
    """A type with what is provisioned on it, as recommendations and plans write it: "gp3 (4000 IOPS)"."""
    extras = [f"{iops:.0f} IOPS" if iops else "", f"{mbps:.0f} MB/s" if mbps else ""]
    extra = ", ".join(e for e in extras if e)
    return f"{name} ({extra})" if extra else name


def parse_volume_type(target: str) -> tuple[str, float | None, float | None]:
    """(type, IOPS, MB/s) back from a label ("gp3 (4000 IOPS, 250 MB/s)")."""
    name, _, rest = target.partition(" (")
    iops = mbps = None
    for part in rest.rstrip(")").split(", "):
        value, _, unit = part.partition(" ")
        if unit == "IOPS":
            iops = float(value)
        elif unit == "MB/s":
            mbps = float(value)
    return name, iops, mbps


# -- old snapshots ----------------------------------------------------------------------------------------
def old_snapshots(inventory: StorageInventory, settings: StorageSettings) -> list[Recommendation]:
    """Snapshots older than the retention: of a volume that still exists, all but its newest few; of a
    volume that is gone, all (the newest is its data's last copy: high risk, said in its reasons)."""
    rows, rank, age = select_old_snapshots(inventory, settings)
    snaps = inventory.snapshots
    found = (advise_old_snapshot(snaps[r], int(rank[r]), float(age[r]), settings) for r in rows)
    return [r for r in found if r is not None]


def select_old_snapshots(
    inventory: StorageInventory, settings: StorageSettings
) -> tuple[list[int], npt.NDArray[np.intp], F64]:
    """The rows of the old snapshots; each snapshot's rank among its volume's (newest first) and age."""
    snaps = inventory.snapshots
    n, now = len(snaps), inventory.now.timestamp()
    created = _epoch((s.created_at for s in snaps), n)
    exists = np.fromiter((s.volume_exists for s in snaps), np.bool_, n)
    code: dict[str, int] = {}  # hashing the ids is linear; sorting them (np.unique) was a third of the time
    volume = np.fromiter((code.setdefault(s.volume_id, len(code)) for s in snaps), np.intp, n)
    # Each snapshot's rank among its volume's, newest first: sort by (volume, newest), subtract group starts.
    order = np.lexsort((-created, volume))
    sorted_volume = volume[order]
    starts = (
        np.flatnonzero(np.r_[True, sorted_volume[1:] != sorted_volume[:-1]]) if n else np.zeros(0, np.intp)
    )
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, np.intp)
    rank[order] = np.arange(n) - group_start
    age_days = (now - created) / DAY
    # A deleted volume's final snapshot is its way back through the cooling-off: not old before it ends.
    final = np.fromiter((FINAL_SNAPSHOT_TAG in s.tags for s in snaps), np.bool_, n)
    cooling = final & (age_days <= settings.cooling_off_days)
    old = (age_days > settings.snapshot_retention_days) & ~cooling
    # A snapshot behind a machine image is the image: the cloud refuses to delete it while the image exists.
    backs_image = np.fromiter((s.image_id is not None for s in snaps), np.bool_, n)
    flagged = old & ~backs_image & (~exists | (rank >= settings.keep_latest_snapshots))
    return np.flatnonzero(flagged).tolist(), rank, age_days


def advise_old_snapshot(
    s: Snapshot, rank: int, age_days: float, settings: StorageSettings
) -> Recommendation | None:
    """The advice for an old snapshot, the `rank`-th newest of its volume's."""
    if s.monthly_price < settings.min_monthly_savings / 10:
        return None  # a few cents: listed by nobody
    if s.volume_exists:
        why = f"{rank} newer snapshots of {s.volume_id} are kept"
        risk: RiskLevel = "low"
    elif rank == 0:
        why = f"the newest, and last, copy of {s.volume_id}, which no longer exists"
        risk = "high"
    else:
        why = f"{s.volume_id} no longer exists; a newer snapshot of it is kept longer"
        risk = "medium"
    return _advice(
        s, "snapshot",
        kind="old_snapshot", finding="old-snapshot", action="delete-snapshot",
        current=f"{s.size_gb:,.0f} GB of {s.created_at.date().isoformat()}",
        target="deleted",
        monthly_savings=round(s.monthly_price, 2), risk=risk,
        risk_score={"low": 0.15, "medium": 0.45, "high": 0.8}[risk],
        confidence=0.95 if risk == "low" else 0.8,
        reasons=[
            f"{age_days:.0f} days old (retention {settings.snapshot_retention_days:g} days)",
            why,
            f"{s.size_gb:,.1f} GB stored costs {s.monthly_price:.2f} USD/month; deleted, it waits in the "
            "recycle bin (billed, recoverable) until the bin's retention ends",
        ],
    )  # fmt: skip


# -- idle public addresses ------------------------------------------------------------------------------
def idle_addresses(inventory: StorageInventory, settings: StorageSettings) -> list[Recommendation]:
    rows, days = select_idle_addresses(inventory, settings)
    return [advise_idle_address(inventory.addresses[r], float(days[r])) for r in rows]


def select_idle_addresses(inventory: StorageInventory, settings: StorageSettings) -> tuple[list[int], F64]:
    """The rows of the addresses idle long enough, and each one's days idle (infinite: not said)."""
    addrs = inventory.addresses
    n, now = len(addrs), inventory.now.timestamp()
    idle = np.fromiter((a.state == "idle" for a in addrs), np.bool_, n)
    since = _epoch((a.idle_since or a.allocated_at for a in addrs), n)
    days = np.where(np.isnan(since), np.inf, (now - since) / DAY)
    return np.flatnonzero(idle & (days >= settings.idle_address_days)).tolist(), days


def advise_idle_address(a: Address, days: float) -> Recommendation:
    """The advice for an address idle for `days` (infinite: the cloud does not say since when)."""
    since = a.idle_since or a.allocated_at
    span = (
        f"idle since {since.date().isoformat()} ({days:.0f} days)"
        if math.isfinite(days) and since is not None
        else "idle (the cloud does not say since when)"
    )
    return _advice(
        a, "address",
        kind="idle_address", finding="idle-address", action="release-address",
        current=a.public_ip, target="released",
        monthly_savings=round(a.monthly_price, 2), risk="low", risk_score=0.1, confidence=0.95,
        reasons=[
            span,
            f"an idle public address costs {a.monthly_price:.2f} USD/month",
            "once released, the same address can be had back only while nobody else took it",
        ],
    )  # fmt: skip
