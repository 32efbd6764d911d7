"""EBS volumes, EBS snapshots and Elastic IPs through boto3, for the AWS adapter.

What EC2 does not say, and what is done instead (said in the resources' fields, never guessed silently):
- When a volume was detached: EC2 keeps no such date (CloudTrail's DetachVolume does); `last_attached_at`
  is None and the unattached-volume engine counts from the volume's creation, saying so.
- A volume's workload: CloudWatch's `VolumeReadOps`/`VolumeWriteOps` and `…Bytes` over 14 days, each hour's
  busiest 5 minutes (the hourly Maximum of the 5-minute sums: 336 points a metric, not 4,032), give its p99
  IOPS and MB/s — read for the gp2 and io1 volumes in use, the only ones a type move is advised for (each
  metric read is billed); others, and a volume without datapoints, have None.
- A snapshot's stored size: `FullSnapshotSizeInBytes` where EC2 reports it, else the volume's size (an upper
  bound: a snapshot stores the blocks in use), so its price is never understated… nor its saving proven.
- When an address went idle: not recorded by EC2 either.
Prices are the published list prices (mock_cloud/catalog/storage.py), as the Pricing API is not queried.

Idempotency: a modification is skipped when the volume already is what is asked; a final snapshot and a
volume made from a snapshot carry the `optiinfra:idempotency-key` tag and are looked up by it first (EC2's
ClientToken is sent too); a deleted volume, snapshot or released address answers as done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np

from mock_cloud.catalog.storage import (
    ADDRESS_HOURLY,
    HOURS_PER_MONTH,
    SNAPSHOT_GB_MONTH,
    region_factor,
    volume_type,
)
from tools.adapters.aws_errors import translated
from tools.errors import IncorrectStateError, InvalidRequestError, ResourceNotFoundError
from tools.models import FINAL_SNAPSHOT_TAG, Address, ResourceFilter, Snapshot, Volume, VolumeDeletion

IDEMPOTENCY_TAG = "optiinfra:idempotency-key"
VOLUME_TYPE_TAG = "volume-type"  # on a final snapshot: the type to make the volume again with
MODIFICATION_COOLDOWN = timedelta(hours=6)
_IMAGE_OF = re.compile(r"\bfor (?:AMI )?(ami-[0-9a-f]+)")
_QUERIES_PER_CALL = 500


def _tags(raw: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or []}


def _tag_spec(kind: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def _filters(f: ResourceFilter) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in f.tag_filter().items()]


class EbsStorage:
    """Volumes, snapshots and addresses of the regions an AWS adapter reads (mixed into AwsProvider)."""

    regions: tuple[str, ...]
    _ec2: dict[str, Any]
    _cloudwatch: dict[str, Any]
    now: Callable[[], datetime]  # the cloud's time, the adapter's
    volume_usage_days: float = 14.0  # the lookback of a volume's workload (Compute Optimizer's 14 days)

    def _regions(self, f: ResourceFilter) -> Sequence[str]:
        if f.provider not in (None, "aws"):
            return ()
        if f.region is not None and f.region not in self.regions:
            raise InvalidRequestError(
                f"region {f.region} is not one of {', '.join(self.regions)}", provider="aws"
            )
        return [f.region] if f.region else self.regions

    def _pages(self, region: str, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:

        with translated():
            for page in self._ec2[region].get_paginator(operation).paginate(**kwargs):
                yield from page[key]

    def _find(self, kind: str, resource_id: str, find: Any) -> tuple[str, dict[str, Any]]:
        """(region, description) of a resource in whichever region holds it, or ResourceNotFoundError."""

        for region in self.regions:
            try:
                with translated():
                    found = find(region)
            except ResourceNotFoundError:
                continue
            if found:
                return region, found[0]
        raise ResourceNotFoundError(f"the {kind} '{resource_id}' does not exist", provider="aws")

    # -- volumes ----------------------------------------------------------------------------------------
    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]:
        f = filters or ResourceFilter()
        aws_filters = _filters(f) + ([{"Name": "status", "Values": [f.state]}] if f.state else [])
        out = []
        for region in self._regions(f):
            raw = list(self._pages(region, "describe_volumes", "Volumes", Filters=aws_filters))
            usage = self._usage(region, [v["VolumeId"] for v in raw if _watched(v)])
            modified = self._last_modified(region, [v["VolumeId"] for v in raw])
            out += [
                self._volume(region, v, usage.get(v["VolumeId"]), modified.get(v["VolumeId"])) for v in raw
            ]
        return out

    def get_volume(self, volume_id: str) -> Volume:
        region, raw = self._find(
            "volume", volume_id, lambda r: self._ec2[r].describe_volumes(VolumeIds=[volume_id])["Volumes"]
        )
        usage = self._usage(region, [volume_id] if _watched(raw) else []).get(volume_id)
        return self._volume(region, raw, usage, self._last_modified(region, [volume_id]).get(volume_id))

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:

        now = self.get_volume(volume_id)
        wanted = (volume_type, iops or 0.0, throughput_mbps or 0.0)
        if (now.volume_type, now.provisioned_iops, now.provisioned_throughput_mbps) == wanted:
            return now  # done already (a replay): EBS would count a second modification against the cooldown
        request: dict[str, Any] = {"VolumeId": volume_id, "VolumeType": volume_type}
        request |= {"Iops": int(iops)} if iops else {}
        request |= {"Throughput": int(throughput_mbps)} if throughput_mbps else {}
        with translated():
            self._ec2[now.region].modify_volume(**request)
        return self.get_volume(volume_id)

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:

        try:
            volume = self.get_volume(volume_id)
        except ResourceNotFoundError:
            kept = self._final_snapshots(volume_id)
            if not kept:
                raise
            return VolumeDeletion(volume=_as_gone(kept[0], volume_id), final_snapshot=kept[0])  # a replay
        if volume.state != "available":
            raise IncorrectStateError(
                f"Volume {volume_id} is currently attached to {volume.attached_to}", provider="aws"
            )
        snapshot = None
        if final_snapshot:
            kept = self._final_snapshots(volume_id)
            snapshot = kept[0] if kept else self._take_final_snapshot(volume, idempotency_key)
        with translated():
            self._ec2[volume.region].delete_volume(VolumeId=volume_id)
        return VolumeDeletion(volume=volume, final_snapshot=snapshot)

    def _take_final_snapshot(self, volume: Volume, key: str) -> Snapshot:
        tags = {
            **volume.tags,
            FINAL_SNAPSHOT_TAG: volume.id,
            VOLUME_TYPE_TAG: volume.volume_type,
            IDEMPOTENCY_TAG: key[:256],
        }
        with translated():
            made = self._ec2[volume.region].create_snapshot(
                VolumeId=volume.id,
                Description=f"final snapshot of {volume.id}, taken before it was deleted",
                TagSpecifications=_tag_spec("snapshot", tags),
            )
            # Deleting a volume while its snapshot is pending is allowed, but the snapshot is the way back:
            # wait until it is complete.
            self._ec2[volume.region].get_waiter("snapshot_completed").wait(SnapshotIds=[made["SnapshotId"]])
        return self.get_snapshot(made["SnapshotId"])

    def _final_snapshots(self, volume_id: str) -> list[Snapshot]:
        return self.list_snapshots(ResourceFilter(tags={FINAL_SNAPSHOT_TAG: volume_id}))

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:

        made = self.list_volumes(ResourceFilter(tags={IDEMPOTENCY_TAG: idempotency_key[:256]}))
        if made:
            return made[0]  # a replay
        snapshot = self.get_snapshot(snapshot_id)
        kept = {k: v for k, v in snapshot.tags.items() if k not in (FINAL_SNAPSHOT_TAG, VOLUME_TYPE_TAG)}
        labels = {k: v for k, v in kept.items() if k != IDEMPOTENCY_TAG}
        labels |= {**(tags or {}), IDEMPOTENCY_TAG: idempotency_key[:256]}
        with translated():
            answer = self._ec2[snapshot.region].create_volume(
                SnapshotId=snapshot_id,
                AvailabilityZone=f"{snapshot.region}a",
                VolumeType=snapshot.tags.get(VOLUME_TYPE_TAG, "gp3"),
                ClientToken=idempotency_key[:64],
                TagSpecifications=_tag_spec("volume", labels),
            )
        return self.get_volume(answer["VolumeId"])

    def _volume(
        self, region: str, raw: dict[str, Any], usage: tuple[float, float] | None, modified: datetime | None
    ) -> Volume:
        kind = str(raw["VolumeType"])
        size = int(raw["Size"])
        spec = volume_type("aws", kind)
        given_iops, given_mbps = float(raw.get("Iops") or 0), float(raw.get("Throughput") or 0)
        # What is bought on top of the type's own: io1's every IOPS; gp3's above 3,000 IOPS and 125 MB/s.
        iops = given_iops if spec.provisioned and given_iops > spec.included_iops else 0.0
        mbps = given_mbps if spec.provisioned and given_mbps > spec.included_mbps else 0.0
        delivered = spec.performance(size, iops, mbps)
        attached = [a["InstanceId"] for a in raw.get("Attachments") or [] if a.get("InstanceId")]
        return Volume(
            id=raw["VolumeId"],
            provider="aws",
            region=region,
            volume_type=kind,
            size_gb=size,
            iops=delivered[0],
            throughput_mbps=delivered[1],
            provisioned_iops=iops,
            provisioned_throughput_mbps=mbps,
            state="in-use" if attached else "available",
            attached_to=attached[0] if attached else None,
            created_at=raw["CreateTime"],
            modifiable_at=modified + MODIFICATION_COOLDOWN if modified else None,
            monthly_price=round(spec.month(size, iops, mbps, region_factor("aws", region)), 4),
            iops_p99=usage[0] if usage else None,
            throughput_p99_mbps=usage[1] if usage else None,
            tags=_tags(raw.get("Tags")),
        )

    def _last_modified(self, region: str, volume_ids: list[str]) -> dict[str, datetime]:
        """When each volume's last modification began (none for a volume never modified)."""
        out: dict[str, datetime] = {}
        for first in range(0, len(volume_ids), 500):
            with translated():
                found = self._ec2[region].describe_volumes_modifications(
                    VolumeIds=volume_ids[first : first + 500]
                )
            for m in found.get("VolumesModifications", []):
                if m.get("StartTime") and (m["VolumeId"] not in out or m["StartTime"] > out[m["VolumeId"]]):
                    out[m["VolumeId"]] = m["StartTime"]
        return out

    def _usage(self, region: str, volume_ids: list[str]) -> dict[str, tuple[float, float]]:
        """Each volume's p99 IOPS and MB/s over the last 14 days, from CloudWatch's 5-minute sums."""

        if not volume_ids:
            return {}
        end = self.now()
        start, period = end - timedelta(days=self.volume_usage_days), 3600
        names = ("VolumeReadOps", "VolumeWriteOps", "VolumeReadBytes", "VolumeWriteBytes")
        queries = [
            {
                "Id": f"m{k}_{n}",
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/EBS",
                        "MetricName": name,
                        "Dimensions": [{"Name": "VolumeId", "Value": vid}],
                    },
                    "Period": period,
                    "Stat": "Sum",
                },
            }
            for k, vid in enumerate(volume_ids)
            for n, name in enumerate(names)
        ]
        series: dict[str, dict[datetime, float]] = {}
        for first in range(0, len(queries), _QUERIES_PER_CALL):
            batch = queries[first : first + _QUERIES_PER_CALL]
            with translated():
                pages = (
                    self._cloudwatch[region]
                    .get_paginator("get_metric_data")
                    .paginate(MetricDataQueries=batch, StartTime=start, EndTime=end)
                )
                for page in pages:
                    for result in page["MetricDataResults"]:
                        points = series.setdefault(result["Id"], {})
                        points.update(zip(result["Timestamps"], result["Values"], strict=True))
        out = {}
        for k, vid in enumerate(volume_ids):
            ops = _summed(series, (f"m{k}_0", f"m{k}_1"))
            moved = _summed(series, (f"m{k}_2", f"m{k}_3"))
            if ops is None or moved is None:
                continue
            # Each point is an hour's busiest 5-minute sum: per second, over those 300 s.
            out[vid] = (
                round(float(np.percentile(ops / 300, 99)), 1),
                round(float(np.percentile(moved / 300 / 1e6, 99)), 1),
            )
        return out

    # -- snapshots --------------------------------------------------------------------------------------
    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        f = filters or ResourceFilter()
        out = []
        for region in self._regions(f):
            raw = list(
                self._pages(region, "describe_snapshots", "Snapshots", OwnerIds=["self"], Filters=_filters(f))
            )
            live = {v["VolumeId"] for v in self._pages(region, "describe_volumes", "Volumes")}
            images = self._image_snapshots(region)
            out += [_snapshot(region, s, s.get("VolumeId") in live, images) for s in raw]
            if recycle_bin:
                with translated():
                    binned = self._ec2[region].list_snapshots_in_recycle_bin()["Snapshots"]
                wanted = {s.id for s in out}
                for s in binned:
                    if s["SnapshotId"] not in wanted:
                        out.append(_snapshot(region, s, s.get("VolumeId") in live, {}, state="recycle-bin"))
        return out

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        region, raw = self._find(
            "snapshot",
            snapshot_id,
            lambda r: self._ec2[r].describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"],
        )
        volume = raw.get("VolumeId")
        live = bool(volume) and any(
            True
            for _ in self._pages(
                region, "describe_volumes", "Volumes", Filters=[{"Name": "volume-id", "Values": [volume]}]
            )
        )
        return _snapshot(region, raw, live, self._image_snapshots(region))

    def _image_snapshots(self, region: str) -> dict[str, str]:
        """Snapshot id → the account's machine image it backs."""
        with translated():
            images = self._ec2[region].describe_images(Owners=["self"])["Images"]
        return {
            m["Ebs"]["SnapshotId"]: image["ImageId"]
            for image in images
            for m in image.get("BlockDeviceMappings", [])
            if m.get("Ebs", {}).get("SnapshotId")
        }

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:

        snapshot = self.get_snapshot(snapshot_id)
        with translated():
            self._ec2[snapshot.region].delete_snapshot(SnapshotId=snapshot_id)
        # Into the Recycle Bin if a retention rule covers it, else gone: as it was, either way.
        return snapshot

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:

        try:
            return self.get_snapshot(snapshot_id)  # not deleted (or recovered already)
        except ResourceNotFoundError:
            pass
        for region in self.regions:
            try:
                with translated():
                    self._ec2[region].restore_snapshot_from_recycle_bin(SnapshotId=snapshot_id)
            except ResourceNotFoundError:
                continue
            return self.get_snapshot(snapshot_id)
        raise ResourceNotFoundError(
            f"the snapshot '{snapshot_id}' is not in the Recycle Bin of {', '.join(self.regions)}",
            provider="aws",
        )

    # -- addresses --------------------------------------------------------------------------------------
    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]:

        f = filters or ResourceFilter()
        out = []
        for region in self._regions(f):
            with translated():
                raw = self._ec2[region].describe_addresses(Filters=_filters(f))["Addresses"]
            out += [_address(region, a) for a in raw]
        return [a for a in out if f.state is None or a.state == f.state]

    def get_address(self, allocation_id: str) -> Address:
        region, raw = self._find(
            "address",
            allocation_id,
            lambda r: self._ec2[r].describe_addresses(AllocationIds=[allocation_id])["Addresses"],
        )
        return _address(region, raw)

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address:

        address = self.get_address(allocation_id)
        if address.state != "idle":
            raise IncorrectStateError(
                f"Address {address.public_ip} is in use by {address.attached_to}", provider="aws"
            )
        with translated():
            self._ec2[address.region].release_address(AllocationId=allocation_id)
        return address.model_copy(update={"state": "released", "released_at": self.now()})

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        """EC2 forgets a released allocation: the same address is allocated again by its IP (a new
        allocation id), which works while nobody else took it."""

        try:
            return self.get_address(allocation_id)
        except ResourceNotFoundError:
            if public_ip is None:
                raise
        for address in self.list_addresses():
            if address.public_ip == public_ip:
                return address  # had back already (a replay)
        region = self.regions[0]
        with translated():
            made = self._ec2[region].allocate_address(Domain="vpc", Address=public_ip)
        return self.get_address(made["AllocationId"])


def _watched(raw: dict[str, Any]) -> bool:
    """A volume whose workload is read: in use, of a type a move to gp3 is advised from."""
    return bool(raw.get("Attachments")) and raw.get("VolumeType") in ("gp2", "io1")


def _summed(series: dict[str, dict[datetime, float]], ids: tuple[str, str]) -> np.ndarray[Any, Any] | None:
    """Two metrics' points added where either has one; None when neither has any."""
    a, b = series.get(ids[0], {}), series.get(ids[1], {})
    moments = sorted(set(a) | set(b))
    if not moments:
        return None
    return np.asarray([a.get(t, 0.0) + b.get(t, 0.0) for t in moments], np.float64)


def _snapshot(
    region: str,
    raw: dict[str, Any],
    volume_exists: bool,
    images: dict[str, str],
    state: Literal["completed", "recycle-bin"] = "completed",
) -> Snapshot:
    # Behind an image: the account's own images say so; EC2's CreateImage also describes its snapshots
    # "Created by CreateImage(...) for ami-…", which covers images shared from elsewhere.
    described = _IMAGE_OF.search(str(raw.get("Description") or ""))
    image = images.get(raw["SnapshotId"]) or (described.group(1) if described else None)
    stored = raw.get("FullSnapshotSizeInBytes")
    size = float(stored) / 2**30 if stored else float(raw.get("VolumeSize") or 0)
    return Snapshot(
        id=raw["SnapshotId"],
        provider="aws",
        region=region,
        volume_id=str(raw.get("VolumeId") or ""),
        volume_exists=volume_exists,
        volume_size_gb=int(raw.get("VolumeSize") or 0),
        size_gb=round(size, 2),
        state=state,
        created_at=raw["StartTime"],
        recoverable_until=raw.get("RecycleBinExitTime"),
        monthly_price=round(size * SNAPSHOT_GB_MONTH["aws"] * region_factor("aws", region), 4),
        image_id=image,
        tags=_tags(raw.get("Tags")),
    )


def _address(region: str, raw: dict[str, Any]) -> Address:
    holder = raw.get("InstanceId") or raw.get("NetworkInterfaceId") or None
    in_use, idle = ADDRESS_HOURLY["aws"]
    return Address(
        id=raw["AllocationId"],
        provider="aws",
        region=region,
        public_ip=raw["PublicIp"],
        state="in-use" if holder else "idle",
        attached_to=raw.get("InstanceId") or None,
        monthly_price=round((in_use if holder else idle) * HOURS_PER_MONTH, 4),
        tags=_tags(raw.get("Tags")),
    )


def _as_gone(snapshot: Snapshot, volume_id: str) -> Volume:
    """A deleted volume, as its final snapshot remembers it (EC2 no longer describes it)."""
    kind = snapshot.tags.get(VOLUME_TYPE_TAG, "gp3")
    spec = volume_type("aws", kind)
    iops, mbps = spec.performance(snapshot.volume_size_gb)
    return Volume(
        id=volume_id,
        provider="aws",
        region=snapshot.region,
        volume_type=kind,
        size_gb=snapshot.volume_size_gb,
        iops=iops,
        throughput_mbps=mbps,
        state="available",
        created_at=snapshot.created_at,
        monthly_price=round(
            spec.month(snapshot.volume_size_gb, factor=region_factor("aws", snapshot.region)), 4
        ),
        tags={
            k: v
            for k, v in snapshot.tags.items()
            if k not in (FINAL_SNAPSHOT_TAG, VOLUME_TYPE_TAG, IDEMPOTENCY_TAG)
        },
    )
