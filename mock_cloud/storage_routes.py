"""The simulator's volumes, snapshots, public addresses and buckets over HTTP, shaped as the instance routes
are: pages with a total, an Idempotency-Key on every change, the clouds' error codes in every refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from mock_cloud.catalog import Provider
from mock_cloud.simulator import CloudSimulator

T = TypeVar("T")
Call = Callable[[Callable[[CloudSimulator], T]], Awaitable[T]]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="Same key, same result, no second change"),
]
ResourceId = Annotated[str, Path(min_length=1, max_length=64)]
Tags = Annotated[list[str], Query(description="key=value; repeat to require several")]


class VolumeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider: Provider
    region: str
    volume_type: str
    size_gb: int
    iops: float = Field(description="IOPS it delivers now")
    throughput_mbps: float
    provisioned_iops: float = Field(description="IOPS bought on top of the type's own (gp3, io1); 0 if none")
    provisioned_throughput_mbps: float
    state: Literal["in-use", "available"]
    attached_to: str | None
    created_at: datetime
    last_attached_at: datetime | None = Field(description="When it was detached; null while attached")
    modifiable_at: datetime = Field(description="No modification before this (EBS: six hours after the last)")
    monthly_price: float = Field(description="USD a month at list price, as it is now")
    iops_p99: float = Field(description="Its workload's p99 IOPS over the last 14 days")
    throughput_p99_mbps: float
    source_snapshot: str | None
    tags: dict[str, str]


class SnapshotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider: Provider
    region: str
    volume_id: str
    volume_exists: bool = Field(description="False when the volume it was taken of is gone")
    volume_size_gb: int
    size_gb: float = Field(description="GB stored, which is what is billed")
    state: Literal["completed", "recycle-bin"]
    created_at: datetime
    recoverable_until: datetime | None = Field(description="In the recycle bin: recoverable until then")
    monthly_price: float
    tags: dict[str, str]


class AddressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider: Provider
    region: str
    public_ip: str
    state: Literal["in-use", "idle", "released"]
    attached_to: str | None
    allocated_at: datetime
    idle_since: datetime | None
    released_at: datetime | None
    monthly_price: float
    tags: dict[str, str]


class VolumePage(BaseModel):
    volumes: list[VolumeOut]
    total: int
    offset: int
    limit: int


class SnapshotPage(BaseModel):
    snapshots: list[SnapshotOut]
    total: int
    offset: int
    limit: int


class AddressPage(BaseModel):
    addresses: list[AddressOut]
    total: int
    offset: int
    limit: int


class BucketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    provider: Provider
    region: str
    storage_class: str = Field(description="S3 storage class, Azure access tier or Cloud Storage class")
    size_gb: float
    objects: int
    reads_gb_per_day: float = Field(description="GB read a day, the last 30 days' mean (request metrics)")
    created_at: datetime
    class_since: datetime = Field(description="Since when its objects are in this class")
    application: str
    tags: dict[str, str]


class BucketPage(BaseModel):
    buckets: list[BucketOut]
    total: int
    offset: int
    limit: int


class BucketClassRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    storage_class: str = Field(min_length=1, max_length=32, description="e.g. STANDARD_IA, Cool, NEARLINE")


class ModifyVolumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume_type: str = Field(min_length=1, max_length=32, description="e.g. gp3, Premium_LRS, pd-balanced")
    iops: float | None = Field(None, ge=0, description="Provisioned IOPS (gp3 above 3,000; io1)")
    throughput_mbps: float | None = Field(None, ge=0, description="Provisioned MB/s (gp3 above 125)")


class DeleteVolumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    final_snapshot: bool = Field(True, description="Take a snapshot of it first (to make it again from)")


class RestoreVolumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: dict[str, str] = Field(default_factory=dict, max_length=50)


class VolumeDeletionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    volume: VolumeOut
    final_snapshot: SnapshotOut | None


def storage_router(call: Call[Any], parse_tags: Callable[[list[str]], dict[str, str]]) -> APIRouter:  # noqa: C901
    router = APIRouter()

    @router.get("/volumes", response_model=VolumePage, tags=["storage"])
    async def list_volumes(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        state: Literal["in-use", "available"] | None = None,
        tag: Tags = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> object:
        page = await call(
            lambda sim: sim.list_volumes(
                provider=provider,
                region=region,
                state=state,
                tags=parse_tags(tag),
                offset=offset,
                limit=limit,
            )
        )
        return VolumePage(
            volumes=[VolumeOut.model_validate(v) for v in page.items],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.get("/volumes/{volume_id}", response_model=VolumeOut, tags=["storage"])
    async def get_volume(volume_id: ResourceId) -> object:
        return VolumeOut.model_validate(await call(lambda sim: sim.get_volume(volume_id)))

    @router.post("/volumes/{volume_id}/modify", response_model=VolumeOut, tags=["storage"])
    async def modify_volume(
        volume_id: ResourceId, body: ModifyVolumeRequest, idempotency_key: IdempotencyKey = None
    ) -> object:
        """Change its type (and provisioned IOPS/throughput) as the cloud allows: EBS online, once in six
        hours; an Azure disk only while no running VM uses it; a persistent disk never in place."""
        view = await call(
            lambda sim: sim.modify_volume(
                volume_id, body.volume_type, body.iops, body.throughput_mbps, idempotency_key
            )
        )
        return VolumeOut.model_validate(view)

    @router.post("/volumes/{volume_id}/delete", response_model=VolumeDeletionOut, tags=["storage"])
    async def delete_volume(
        volume_id: ResourceId,
        body: Annotated[DeleteVolumeRequest, Body()] = DeleteVolumeRequest(),  # noqa: B008
        idempotency_key: IdempotencyKey = None,
    ) -> object:
        """Delete an available volume (an attached one is refused), after a final snapshot by default."""
        done = await call(lambda sim: sim.delete_volume(volume_id, body.final_snapshot, idempotency_key))
        return VolumeDeletionOut.model_validate(done)

    @router.get("/snapshots", response_model=SnapshotPage, tags=["storage"])
    async def list_snapshots(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        volume_id: Annotated[str | None, Query(max_length=64)] = None,
        recycle_bin: Annotated[bool, Query(description="Include deleted ones still recoverable")] = False,
        tag: Tags = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> object:
        page = await call(
            lambda sim: sim.list_snapshots(
                provider=provider, region=region, volume_id=volume_id, tags=parse_tags(tag),
                recycle_bin=recycle_bin, offset=offset, limit=limit,
            )
        )  # fmt: skip
        return SnapshotPage(
            snapshots=[SnapshotOut.model_validate(s) for s in page.items],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.get("/snapshots/{snapshot_id}", response_model=SnapshotOut, tags=["storage"])
    async def get_snapshot(snapshot_id: ResourceId) -> object:
        return SnapshotOut.model_validate(await call(lambda sim: sim.get_snapshot(snapshot_id)))

    @router.post("/snapshots/{snapshot_id}/delete", response_model=SnapshotOut, tags=["storage"])
    async def delete_snapshot(snapshot_id: ResourceId, idempotency_key: IdempotencyKey = None) -> object:
        """Delete it: it waits in the recycle bin (billed, recoverable) for the account's retention."""
        return SnapshotOut.model_validate(
            await call(lambda sim: sim.delete_snapshot(snapshot_id, idempotency_key))
        )

    @router.post("/snapshots/{snapshot_id}/recover", response_model=SnapshotOut, tags=["storage"])
    async def recover_snapshot(snapshot_id: ResourceId, idempotency_key: IdempotencyKey = None) -> object:
        return SnapshotOut.model_validate(
            await call(lambda sim: sim.recover_snapshot(snapshot_id, idempotency_key))
        )

    @router.post("/snapshots/{snapshot_id}/restore-volume", response_model=VolumeOut, tags=["storage"])
    async def restore_volume(
        snapshot_id: ResourceId,
        body: Annotated[RestoreVolumeRequest, Body()] = RestoreVolumeRequest(),  # noqa: B008
        idempotency_key: IdempotencyKey = None,
    ) -> object:
        """A new, available volume made from the snapshot (its volume's type and size)."""
        view = await call(lambda sim: sim.restore_volume(snapshot_id, body.tags, idempotency_key))
        return VolumeOut.model_validate(view)

    @router.get("/addresses", response_model=AddressPage, tags=["storage"])
    async def list_addresses(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        state: Literal["in-use", "idle"] | None = None,
        tag: Tags = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> object:
        page = await call(
            lambda sim: sim.list_addresses(
                provider=provider,
                region=region,
                state=state,
                tags=parse_tags(tag),
                offset=offset,
                limit=limit,
            )
        )
        return AddressPage(
            addresses=[AddressOut.model_validate(a) for a in page.items],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.get("/addresses/{allocation_id}", response_model=AddressOut, tags=["storage"])
    async def get_address(allocation_id: ResourceId) -> object:
        return AddressOut.model_validate(await call(lambda sim: sim.get_address(allocation_id)))

    @router.post("/addresses/{allocation_id}/release", response_model=AddressOut, tags=["storage"])
    async def release_address(allocation_id: ResourceId, idempotency_key: IdempotencyKey = None) -> object:
        """Give an idle address back (one in use is refused)."""
        view = await call(lambda sim: sim.release_address(allocation_id, idempotency_key))
        return AddressOut.model_validate(view)

    @router.get("/buckets", response_model=BucketPage, tags=["storage"])
    async def list_buckets(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        storage_class: Annotated[str | None, Query(max_length=32)] = None,
        application: Annotated[str | None, Query(max_length=128)] = None,
        tag: Tags = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> object:
        page = await call(
            lambda sim: sim.list_buckets(
                provider=provider,
                region=region,
                storage_class=storage_class,
                application=application,
                tags=parse_tags(tag),
                offset=offset,
                limit=limit,
            )
        )
        return BucketPage(
            buckets=[BucketOut.model_validate(b) for b in page.items],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.get("/buckets/{name}", response_model=BucketOut, tags=["storage"])
    async def get_bucket(name: ResourceId) -> object:
        return BucketOut.model_validate(await call(lambda sim: sim.get_bucket(name)))

    @router.post("/buckets/{name}/class", response_model=BucketOut, tags=["storage"])
    async def set_bucket_class(
        name: ResourceId, body: BucketClassRequest, idempotency_key: IdempotencyKey = None
    ) -> object:
        """Move every object to another storage class: transitions, a copy's reads and early deletion are
        charged as the cloud charges them; objects in an archive class are restored first (refused)."""
        view = await call(lambda sim: sim.set_bucket_class(name, body.storage_class, idempotency_key))
        return BucketOut.model_validate(view)

    @router.post("/addresses/{allocation_id}/recover", response_model=AddressOut, tags=["storage"])
    async def recover_address(allocation_id: ResourceId, idempotency_key: IdempotencyKey = None) -> object:
        """Allocate a released address again, while nobody else took it."""
        view = await call(lambda sim: sim.recover_address(allocation_id, idempotency_key))
        return AddressOut.model_validate(view)

    return router
