"""Everything an account holds besides its machines: data volumes, snapshots and public addresses.

A seeded three-year-old account, as a FinOps engineer finds it: data volumes on many machines (some of an
older or dearer type than their workload needs), volumes left behind by decommissioned machines (available,
with the day they were last attached), backup snapshots a policy took every week — some kept for ever, some
of volumes long gone — and public addresses, a few idle since their machine went. All on the virtual clock,
all billed (`billing_rows`), all changed only through the operations below, each as the clouds allow it:
an attached volume cannot be deleted; an AWS volume can be modified once in six hours; a deleted snapshot
waits in the recycle bin (billed, recoverable) for RECYCLE_BIN_DAYS; a released address can be had back
while nobody else took it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mock_cloud.catalog.storage import (
    ADDRESS_HOURLY,
    HOURS_PER_MONTH,
    SNAPSHOT_GB_MONTH,
    region_factor,
    volume_type,
)
from mock_cloud.clouds import Provider
from mock_cloud.errors import IncorrectResourceState, InvalidParameterValue, ResourceNotFound
from mock_cloud.instances import Instance
from mock_cloud.lifecycle import SimEvent
from mock_cloud.stable import stable_int
from mock_cloud.workloads import DAY, HOUR

RECYCLE_BIN_DAYS = 7  # the account's Recycle Bin rule for snapshots (AWS's retention, 1-365 days)
MODIFICATION_COOLDOWN = 6 * HOUR  # EBS: "wait at least six hours" between modifications of a volume
_STREAM = 0x5707A6E  # the estate's own random stream: a seed's machines stay as they were
_TYPES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "aws": (("gp2", "gp3", "io1", "st1"), (0.42, 0.43, 0.10, 0.05)),
    "azure": (("Premium_LRS", "StandardSSD_LRS", "Standard_LRS"), (0.5, 0.35, 0.15)),
    "gcp": (("pd-balanced", "pd-ssd", "pd-standard"), (0.5, 0.3, 0.2)),
}
# Share of a tier's machines with a data volume, and the p99 IOPS its workload asks of it (low, high).
_DATA_VOLUME_SHARE = {"database": 0.95, "cache": 0.6, "training": 0.8, "worker": 0.4, "batch": 0.5}
_PEAK_IOPS = {"database": (800.0, 9_000.0), "cache": (300.0, 2_500.0), "training": (200.0, 2_000.0)}
_LEFT_BEHIND_SHARE = 0.6  # of a decommissioned machine's data volumes: not deleted with it
_FORGOTTEN_SHARE = 0.08  # of live machines with a data volume: an older one detached by hand and forgotten
_ADDRESS_TIERS = frozenset({"web", "api", "sandbox"})
_IDLE_ADDRESS_SHARE = 0.5  # of a decommissioned internet-facing machine's addresses: never released
RELEASED = ""  # an address's holder while it is released (had back later, its gap is not billed)
_PREFIX = {
    "volume": {"aws": "vol-0", "azure": "disk-", "gcp": "pd-"},
    "snapshot": {"aws": "snap-0", "azure": "snapshot-", "gcp": "snapshot-"},
    "address": {"aws": "eipalloc-0", "azure": "pip-", "gcp": "addr-"},
}


def resource_id(kind: str, provider: str, seed: int, serial: int) -> str:
    n = stable_int(seed, kind, serial)
    return f"{_PREFIX[kind][provider]}{n & ((1 << 64) - 1):016x}"


@dataclass(slots=True)
class VolumeSegment:
    """From `start` on, the volume had this type and provisioned IOPS and throughput (0: the type's own)."""

    start: float
    volume_type: str
    iops: float
    mbps: float


@dataclass(slots=True)
class Volume:
    id: str
    provider: Provider
    region: str
    size_gb: int
    created_at: float
    tags: dict[str, str]
    history: list[VolumeSegment]
    attached_to: str | None
    last_attached_at: float | None  # when it was last detached (or is attached now: None)
    peak_iops: float  # the p99 its workload asks for while attached
    peak_mbps: float
    deleted_at: float | None = None
    modified_at: float | None = None
    source_snapshot: str | None = None

    @property
    def current(self) -> VolumeSegment:
        return self.history[-1]

    @property
    def application(self) -> str:
        return self.tags.get("application", "(none)")


@dataclass(slots=True)
class Snapshot:
    id: str
    provider: Provider
    region: str
    volume_id: str
    volume_type: str
    volume_size_gb: int
    size_gb: float  # stored (a full copy first, then the blocks that changed)
    created_at: float
    tags: dict[str, str]
    deleted_at: float | None = None
    recoverable_until: float | None = None  # in the recycle bin until then (billed, recoverable)

    @property
    def application(self) -> str:
        return self.tags.get("application", "(none)")

    def billed_until(self) -> float:
        if self.deleted_at is None:
            return np.inf
        return self.recoverable_until if self.recoverable_until is not None else self.deleted_at


@dataclass(slots=True)
class Address:
    id: str
    provider: Provider
    region: str
    public_ip: str
    allocated_at: float
    tags: dict[str, str]
    # (from, the instance it is attached to; None: idle; RELEASED: not the account's, so not billed)
    attachments: list[tuple[float, str | None]]
    released_at: float | None = None

    @property
    def attached_to(self) -> str | None:
        return self.attachments[-1][1] or None

    @property
    def application(self) -> str:
        return self.tags.get("application", "(none)")

    def attach(self, instance_id: str | None, at: float) -> None:
        if self.attachments[-1][0] == at:
            self.attachments[-1] = (at, instance_id)
        else:
            self.attachments.append((at, instance_id))


# -- views --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VolumeView:
    id: str
    provider: Provider
    region: str
    volume_type: str
    size_gb: int
    iops: float  # what it delivers now
    throughput_mbps: float
    provisioned_iops: float
    provisioned_throughput_mbps: float
    state: str  # in-use | available
    attached_to: str | None
    created_at: float
    last_attached_at: float | None
    modifiable_at: float  # no modification before this (AWS's six hours)
    monthly_price: float
    iops_p99: float  # over the last 14 days: what its workload did (capped by what the volume delivers)
    throughput_p99_mbps: float
    source_snapshot: str | None
    tags: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class SnapshotView:
    id: str
    provider: Provider
    region: str
    volume_id: str
    volume_exists: bool
    volume_size_gb: int
    size_gb: float
    state: str  # completed | recycle-bin
    created_at: float
    recoverable_until: float | None
    monthly_price: float
    tags: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class AddressView:
    id: str
    provider: Provider
    region: str
    public_ip: str
    state: str  # in-use | idle | released
    attached_to: str | None
    allocated_at: float
    idle_since: float | None
    released_at: float | None
    monthly_price: float
    tags: dict[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class VolumeDeletion:
    volume: VolumeView
    final_snapshot: SnapshotView | None


@dataclass
class BilledRows:
    """Everything besides machines the bill carries, as segments (row, start, end, USD/h) and rows."""

    keys: list[Billed] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    hourly: list[float] = field(default_factory=list)
    _row_of: dict[int, int] = field(default_factory=dict)  # a key's row, by its identity

    def add(self, key: Billed, start: float, end: float, hourly: float) -> None:
        """`key` billed `hourly` USD/h from `start` to `end` (a key's segments need not come together)."""
        if id(key) not in self._row_of:
            self._row_of[id(key)] = len(self.keys)
            self.keys.append(key)
        self.rows.append(self._row_of[id(key)])
        self.starts.append(start)
        self.ends.append(end)
        self.hourly.append(hourly)


@dataclass(frozen=True, slots=True)
class Billed:
    """A billed resource as cost groupings see it (the same attributes an instance has)."""

    id: str
    provider: str
    region: str
    instance_type: str  # its type on the bill: "gp3", "snapshot", "public-ip"
    pricing_model: str
    application: str
    tags: Mapping[str, str]
    service: str  # storage | snapshots | ip-addresses


class StorageEstate:
    """Owns the volumes, snapshots and addresses and everything that changes them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.addresses: dict[str, Address] = {}
        self._serial = 0
        self._seen_events = 0

    # -- reads ------------------------------------------------------------------------------------------
    def volume(self, volume_id: str) -> Volume:
        found = self.volumes.get(volume_id)
        if found is None or found.deleted_at is not None:
            raise ResourceNotFound("InvalidVolume.NotFound", f"The volume '{volume_id}' does not exist.")
        return found

    def snapshot(self, snapshot_id: str, now: float, *, in_bin: bool = False) -> Snapshot:
        found = self.snapshots.get(snapshot_id)
        if found is None or (found.deleted_at is not None and not (in_bin and _in_bin(found, now))):
            raise ResourceNotFound(
                "InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist."
            )
        return found

    def address(self, allocation_id: str, now: float, *, released: bool = False) -> Address:
        found = self.addresses.get(allocation_id)
        if found is None or (found.released_at is not None and not released):
            raise ResourceNotFound(
                "InvalidAllocationID.NotFound", f"The allocation ID '{allocation_id}' does not exist"
            )
        return found

    def live_volumes(self) -> list[Volume]:
        return [v for v in self.volumes.values() if v.deleted_at is None]

    def live_snapshots(self, now: float, *, recycle_bin: bool = False) -> list[Snapshot]:
        return [
            s for s in self.snapshots.values() if s.deleted_at is None or (recycle_bin and _in_bin(s, now))
        ]

    def live_addresses(self) -> list[Address]:
        return [a for a in self.addresses.values() if a.released_at is None]

    def volume_view(self, v: Volume, now: float) -> VolumeView:
        seg = v.current
        kind = volume_type(v.provider, seg.volume_type)
        iops, mbps = kind.performance(v.size_gb, seg.iops, seg.mbps)
        attached_lately = v.attached_to is not None or (
            v.last_attached_at is not None and v.last_attached_at > now - 14 * DAY
        )
        return VolumeView(
            id=v.id,
            provider=v.provider,
            region=v.region,
            volume_type=seg.volume_type,
            size_gb=v.size_gb,
            iops=round(iops, 1),
            throughput_mbps=round(mbps, 1),
            provisioned_iops=seg.iops,
            provisioned_throughput_mbps=seg.mbps,
            state="in-use" if v.attached_to else "available",
            attached_to=v.attached_to,
            created_at=v.created_at,
            last_attached_at=v.last_attached_at,
            modifiable_at=_modifiable_at(v),
            monthly_price=round(_volume_month(v, seg), 4),
            iops_p99=round(min(v.peak_iops, iops), 1) if attached_lately else 0.0,
            throughput_p99_mbps=round(min(v.peak_mbps, mbps), 1) if attached_lately else 0.0,
            source_snapshot=v.source_snapshot,
            tags=dict(v.tags),
        )

    def snapshot_view(self, s: Snapshot, now: float) -> SnapshotView:
        source = self.volumes.get(s.volume_id)
        return SnapshotView(
            id=s.id,
            provider=s.provider,
            region=s.region,
            volume_id=s.volume_id,
            volume_exists=source is not None and source.deleted_at is None,
            volume_size_gb=s.volume_size_gb,
            size_gb=round(s.size_gb, 2),
            state="recycle-bin" if s.deleted_at is not None else "completed",
            created_at=s.created_at,
            recoverable_until=s.recoverable_until if s.deleted_at is not None else None,
            monthly_price=round(_snapshot_month(s), 4),
            tags=dict(s.tags),
        )

    def address_view(self, a: Address, now: float) -> AddressView:
        idle_since = a.attachments[-1][0] if a.attached_to is None and a.released_at is None else None
        state = "released" if a.released_at is not None else "in-use" if a.attached_to else "idle"
        in_use, idle = ADDRESS_HOURLY[a.provider]
        return AddressView(
            id=a.id,
            provider=a.provider,
            region=a.region,
            public_ip=a.public_ip,
            state=state,
            attached_to=a.attached_to,
            allocated_at=a.allocated_at,
            idle_since=idle_since,
            released_at=a.released_at,
            monthly_price=round((in_use if a.attached_to else idle) * HOURS_PER_MONTH, 4),
            tags=dict(a.tags),
        )

    # -- changes ----------------------------------------------------------------------------------------
    def modify_volume(
        self, volume_id: str, new_type: str, iops: float | None, mbps: float | None, at: float,
        machine_running: bool,
    ) -> Volume:  # fmt: skip
        """Change a volume's type (and provisioned IOPS/throughput) as the clouds allow it: EBS online,
        once in six hours; an Azure disk only while no running VM uses it (`machine_running`: the one it
        is attached to runs); a persistent disk never in place (GCP makes a new disk from a snapshot)."""
        v = self.volume(volume_id)
        kind = volume_type(v.provider, new_type)
        if v.provider == "gcp":
            raise InvalidParameterValue(
                "A persistent disk's type cannot be changed in place; create a disk of the new type from a "
                "snapshot of this one"
            )
        if v.provider == "azure" and v.attached_to is not None and machine_running:
            raise IncorrectResourceState(
                "OperationNotAllowed",
                f"Disk '{v.id}' is attached to running VM '{v.attached_to}'; its SKU can be changed only "
                "while the VM is deallocated or the disk is unattached.",
            )
        if at < _modifiable_at(v):
            raise IncorrectResourceState(
                "IncorrectModificationState",
                f"You've reached the maximum modification rate per volume limit for '{v.id}'. Wait at least "
                "6 hours between modifications per EBS volume.",
            )
        new_iops, new_mbps = (iops or 0.0, mbps or 0.0) if kind.provisioned else (0.0, 0.0)
        if kind.provisioned and new_type == "io1" and not new_iops:
            raise InvalidParameterValue("An io1 volume needs its IOPS: give iops")
        if new_iops and new_iops > kind.max_iops:
            raise InvalidParameterValue(f"iops must be at most {kind.max_iops:.0f} for {new_type}")
        if new_type == "io1" and new_iops > 50 * v.size_gb:
            raise InvalidParameterValue("io1 allows at most 50 IOPS per GiB of the volume's size")
        if new_type == "st1" and v.size_gb < 125:
            raise InvalidParameterValue("An st1 volume must be at least 125 GiB")
        seg = v.current
        if (seg.volume_type, seg.iops, seg.mbps) == (new_type, new_iops, new_mbps):
            return v
        v.history.append(VolumeSegment(at, new_type, new_iops, new_mbps))
        if v.history[-2].start == at:
            del v.history[-2]
        v.modified_at = at
        return v

    def delete_volume(
        self, volume_id: str, final_snapshot: bool, at: float
    ) -> tuple[Volume, Snapshot | None]:
        v = self.volume(volume_id)
        if v.attached_to is not None:
            raise IncorrectResourceState(
                "VolumeInUse", f"Volume {v.id} is currently attached to {v.attached_to}"
            )
        snap = None
        if final_snapshot:
            tags = {**v.tags, "final-snapshot-of": v.id}
            snap = self._snapshot(v, float(v.size_gb) * 0.6, at, tags)
        v.deleted_at = at
        return v, snap

    def restore_volume(self, snapshot_id: str, at: float, tags: Mapping[str, str] | None = None) -> Volume:
        """A new volume made from a snapshot, of the snapshot's volume's type and size, unattached."""
        s = self.snapshot(snapshot_id, at)
        source = self.volumes.get(s.volume_id)
        seg = source.current if source is not None else VolumeSegment(at, s.volume_type, 0.0, 0.0)
        self._serial += 1
        v = Volume(
            id=resource_id("volume", s.provider, self.seed, (1 << 40) + self._serial),
            provider=s.provider,
            region=s.region,
            size_gb=s.volume_size_gb,
            created_at=at,
            tags={**{k: v for k, v in s.tags.items() if k != "final-snapshot-of"}, **(tags or {})},
            history=[VolumeSegment(at, seg.volume_type, seg.iops, seg.mbps)],
            attached_to=None,
            last_attached_at=source.last_attached_at if source is not None else None,
            peak_iops=source.peak_iops if source is not None else 0.0,
            peak_mbps=source.peak_mbps if source is not None else 0.0,
            source_snapshot=s.id,
        )
        self.volumes[v.id] = v
        return v

    def delete_snapshot(self, snapshot_id: str, at: float) -> Snapshot:
        s = self.snapshot(snapshot_id, at)
        s.deleted_at, s.recoverable_until = at, at + RECYCLE_BIN_DAYS * DAY
        return s

    def recover_snapshot(self, snapshot_id: str, at: float) -> Snapshot:
        s = self.snapshot(snapshot_id, at, in_bin=True)
        if s.deleted_at is None:
            return s
        s.deleted_at = s.recoverable_until = None
        return s

    def release_address(self, allocation_id: str, at: float) -> Address:
        a = self.address(allocation_id, at)
        if a.attached_to is not None:
            raise IncorrectResourceState(
                "InvalidIPAddress.InUse", f"Address {a.public_ip} is in use by {a.attached_to}"
            )
        a.released_at = at
        a.attach(RELEASED, at)
        return a

    def recover_address(self, allocation_id: str, at: float) -> Address:
        """Allocate a released address again (EC2's allocate-address --address): while nobody else took it,
        which the simulated region promises for RECYCLE_BIN_DAYS."""
        a = self.address(allocation_id, at, released=True)
        if a.released_at is None:
            return a
        if at > a.released_at + RECYCLE_BIN_DAYS * DAY:
            raise IncorrectResourceState(
                "InvalidAddress.NotFound", f"The address {a.public_ip} was allocated to another account"
            )
        a.released_at = None
        a.attach(None, at)
        return a

    # -- following the machines -------------------------------------------------------------------------
    def follow(self, log: list[SimEvent], instances: Mapping[str, Instance]) -> None:
        """Apply the machines' events since the last call: a replacement takes over its original's volumes
        and addresses when it starts serving; a terminated machine leaves its own behind, detached."""
        for event in log[self._seen_events :]:
            inst = instances.get(event.instance_id)
            if event.kind == "running" and inst is not None and inst.replaces is not None:
                self._move(inst.replaces, inst.id, event.time)
            elif event.kind == "terminated":
                self._move(event.instance_id, None, event.time)
        self._seen_events = len(log)

    def _move(self, source: str, target: str | None, at: float) -> None:
        for v in self.volumes.values():
            if v.attached_to == source and v.deleted_at is None:
                v.attached_to = target
                if target is None:
                    v.last_attached_at = at
        for a in self.addresses.values():
            if a.attached_to == source and a.released_at is None:
                a.attach(target, at)

    def _snapshot(self, v: Volume, size_gb: float, at: float, tags: dict[str, str]) -> Snapshot:
        self._serial += 1
        s = Snapshot(
            id=resource_id("snapshot", v.provider, self.seed, (1 << 40) + self._serial),
            provider=v.provider,
            region=v.region,
            volume_id=v.id,
            volume_type=v.current.volume_type,
            volume_size_gb=v.size_gb,
            size_gb=size_gb,
            created_at=at,
            tags=tags,
        )
        self.snapshots[s.id] = s
        return s

    # -- the bill ---------------------------------------------------------------------------------------
    def billing_rows(
        self,
        provider: str | None = None,
        region: str | None = None,
        application: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> BilledRows:
        """Each resource that matches the filters, with its priced segments (deleted ones too, for the
        time they existed)."""
        out = BilledRows()
        add = out.add

        for v in self.volumes.values():
            if not matches(v, provider, region, application, tags):
                continue
            key = Billed(v.id, v.provider, v.region, v.current.volume_type, "on-demand", v.application,
                         v.tags, "storage")  # fmt: skip
            end = v.deleted_at if v.deleted_at is not None else np.inf
            for k, seg in enumerate(v.history):
                seg_end = min(v.history[k + 1].start if k + 1 < len(v.history) else np.inf, end)
                add(key, seg.start, seg_end, _volume_month(v, seg) / HOURS_PER_MONTH)
        for s in self.snapshots.values():
            if matches(s, provider, region, application, tags):
                key = Billed(s.id, s.provider, s.region, "snapshot", "on-demand", s.application, s.tags,
                             "snapshots")  # fmt: skip
                add(key, s.created_at, s.billed_until(), _snapshot_month(s) / HOURS_PER_MONTH)
        for a in self.addresses.values():
            if not matches(a, provider, region, application, tags):
                continue
            key = Billed(a.id, a.provider, a.region, "public-ip", "on-demand", a.application, a.tags,
                         "ip-addresses")  # fmt: skip
            in_use, idle = ADDRESS_HOURLY[a.provider]
            end = a.released_at if a.released_at is not None else np.inf
            for k, (start, holder) in enumerate(a.attachments):
                if holder == RELEASED:
                    continue
                seg_end = min(a.attachments[k + 1][0] if k + 1 < len(a.attachments) else np.inf, end)
                add(key, start, seg_end, in_use if holder else idle)
        return out


class Placed(Protocol):
    """What a listing or the bill filters a resource by."""

    @property
    def provider(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def application(self) -> str: ...

    @property
    def tags(self) -> dict[str, str]: ...


def matches(
    resource: Placed,
    provider: str | None = None,
    region: str | None = None,
    application: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> bool:
    """Whether a volume, snapshot, address or bucket matches every given filter."""
    return (
        (provider is None or resource.provider == provider)
        and (region is None or resource.region == region)
        and (application is None or resource.application == application)
        and all(resource.tags.get(k) == v for k, v in (tags or {}).items())
    )


def _in_bin(s: Snapshot, now: float) -> bool:
    return s.deleted_at is not None and s.recoverable_until is not None and now < s.recoverable_until


def _modifiable_at(v: Volume) -> float:
    if v.provider != "aws" or v.modified_at is None:
        return v.created_at
    return v.modified_at + MODIFICATION_COOLDOWN


def _volume_month(v: Volume, seg: VolumeSegment) -> float:
    return volume_type(v.provider, seg.volume_type).month(
        v.size_gb, seg.iops, seg.mbps, region_factor(v.provider, v.region)
    )


def _snapshot_month(s: Snapshot) -> float:
    return s.size_gb * SNAPSHOT_GB_MONTH[s.provider] * region_factor(s.provider, s.region)


# -- a seeded account -----------------------------------------------------------------------------------
def generate_estate(
    seed: int, now: float, live: Iterable[Instance], retired: Iterable[Instance]
) -> StorageEstate:
    """The storage of a fleet: data volumes and addresses of its machines, what decommissioned machines
    left behind, and weekly backup snapshots."""
    estate = StorageEstate(seed)
    rng = np.random.default_rng([seed, _STREAM])
    serial = 0

    def next_serial() -> int:
        nonlocal serial
        serial += 1
        return serial

    for inst, gone in [(i, False) for i in live] + [(i, True) for i in retired]:
        tier = inst.tags.get("tier", "")
        owner: dict[str, str] = {
            k: inst.tags[k] for k in ("team", "environment", "application") if k in inst.tags
        }
        # Decommissioned machines were older deployments, which kept their data on volumes more often.
        if rng.random() < max(_DATA_VOLUME_SHARE.get(tier, 0.2), 0.6 if gone else 0.0):
            names, weights = _TYPES[inst.provider]
            kind = names[int(rng.choice(len(names), p=weights))]
            if kind == "st1" and tier not in ("batch", "worker", "training"):
                kind = "gp2"
            size = int(rng.integers(125, 2_000)) if tier in _PEAK_IOPS else int(rng.integers(20, 500))
            low, high = _PEAK_IOPS.get(tier, (30.0, 1_200.0))
            peak = float(np.round(rng.uniform(low, high), 0))
            spec = volume_type(inst.provider, kind)
            iops = float(max(peak * 1.5, 3_000.0)) if kind == "io1" else 0.0
            iops = min(iops, 50.0 * size, spec.max_iops) if kind == "io1" else iops
            v = Volume(
                id=resource_id("volume", inst.provider, seed, next_serial()),
                provider=inst.provider,
                region=inst.region,
                size_gb=size,
                created_at=inst.launch_time,
                tags={**owner, "attached-as": "data"},
                history=[VolumeSegment(inst.launch_time, kind, iops, 0.0)],
                attached_to=inst.id,
                last_attached_at=None,
                peak_iops=peak,
                peak_mbps=float(np.round(peak * rng.uniform(0.03, 0.12), 1)),
            )
            estate.volumes[v.id] = v
            if gone:
                assert inst.terminated_at is not None
                v.attached_to, v.last_attached_at = None, inst.terminated_at
                if rng.random() >= _LEFT_BEHIND_SHARE:
                    v.deleted_at = inst.terminated_at  # deleted with its machine; its snapshots remain
            elif rng.random() < _FORGOTTEN_SHARE and now - inst.launch_time > 20 * DAY:
                detached = float(np.floor(rng.uniform(inst.launch_time + 10 * DAY, now - 5 * DAY)))
                old = Volume(
                    id=resource_id("volume", inst.provider, seed, next_serial()),
                    provider=inst.provider,
                    region=inst.region,
                    size_gb=v.size_gb,
                    created_at=inst.launch_time,
                    tags={**owner, "attached-as": "data"},
                    history=[VolumeSegment(inst.launch_time, kind, iops, 0.0)],
                    attached_to=None,
                    last_attached_at=detached,
                    peak_iops=peak,
                    peak_mbps=v.peak_mbps,
                )
                estate.volumes[old.id] = old
            _backups(estate, v, rng, now)
        if tier in _ADDRESS_TIERS and rng.random() < 0.5:
            n = stable_int(seed, "ip", inst.id)
            a = Address(
                id=resource_id("address", inst.provider, seed, next_serial()),
                provider=inst.provider,
                region=inst.region,
                public_ip=f"{3 + n % 200}.{(n >> 8) % 256}.{(n >> 16) % 256}.{1 + (n >> 24) % 254}",
                allocated_at=inst.launch_time,
                tags=dict(owner),
                attachments=[(inst.launch_time, inst.id)],
            )
            if gone:
                assert inst.terminated_at is not None
                a.attach(None, inst.terminated_at)
                if rng.random() >= _IDLE_ADDRESS_SHARE:
                    a.released_at = inst.terminated_at
                    a.attach(RELEASED, inst.terminated_at)
            estate.addresses[a.id] = a
    estate._serial = serial
    return estate


def _backups(estate: StorageEstate, v: Volume, rng: np.random.Generator, now: float) -> None:
    """Weekly snapshots by a backup policy that keeps four (or, for a third of volumes, was never told to
    prune and kept them all), from the volume's first week until it was deleted."""
    if rng.random() < 0.35:
        return  # not backed up
    keep_all = rng.random() < 0.33
    end = v.deleted_at if v.deleted_at is not None else now
    first = v.created_at + 7 * DAY
    taken = np.arange(first, end, 7 * DAY)
    if not keep_all:
        taken = taken[-4:]
    changed = rng.uniform(0.02, 0.08)
    for k, at in enumerate(taken.tolist()):
        size = v.size_gb * (0.6 if k == 0 else changed)
        tags = {**v.tags, "created-by": "backup-policy"}
        tags.pop("attached-as", None)
        estate._snapshot(v, float(size), float(at), tags)
