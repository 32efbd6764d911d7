"""The CloudProvider protocol: one driver shape for every cloud, as Apache Libcloud's NodeDriver is.

Every mutation takes an idempotency key: calling again with the same key returns the first result and
changes nothing, so a workflow resumed after a crash can replay its calls safely. Errors are the typed
errors of `tools.errors`. `resize` stops, resizes and starts the instance itself, waiting on each state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from tools.errors import InvalidRequestError
from tools.models import (
    Address,
    ApplicationQuality,
    Bucket,
    CostBreakdown,
    Instance,
    InstanceFilter,
    InstancePage,
    InstanceTypeOffer,
    MetricSeries,
    Migration,
    PricingModel,
    ResourceFilter,
    Snapshot,
    TargetQuality,
    UtilisationSummary,
    Volume,
    VolumeDeletion,
)


@runtime_checkable
class CloudProvider(Protocol):
    name: str  # which back end: "simulator", "simulator-http", "aws"

    def now(self) -> datetime:
        """The cloud's current time (the simulator's is virtual)."""
        ...

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]: ...

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        """`limit` instances from `offset` of those `list_instances` would return, and their total: a page
        costs what its rows cost, not what the fleet does."""
        ...

    def get_instance(self, instance_id: str) -> Instance: ...

    def instance_types(self, provider: str, region: str | None = None) -> list[InstanceTypeOffer]: ...

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries: ...

    def utilisation(
        self, hours: float = 336, percentiles: Sequence[float] = (95.0,)
    ) -> UtilisationSummary: ...

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality: ...

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        """Each machine's own quality over the `minutes` before `until` (default: now): what canary
        analysis compares, changed machines against their unchanged peers."""
        ...

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        """Accrued cost over the `days` before `until` (default: now) of the instances that match `filters`
        (their provider, region, application and tags; a filter the cloud's bill cannot apply is an
        InvalidRequestError, never ignored); with `daily`, each group's amount per UTC day as well."""
        ...

    def start(self, instance_id: str, idempotency_key: str) -> Instance: ...

    def stop(self, instance_id: str, idempotency_key: str) -> Instance: ...

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance: ...

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance: ...

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration: ...

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        """Set `tags` on a machine and remove the keys in `remove` (absent ones are ignored); the machine
        as it is tagged now."""
        ...

    def writes_tags(self) -> bool:
        """Whether `set_tags` can write this cloud's machines (an off-hours schedule lives in a tag: where
        it cannot, none is advised)."""
        ...

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> Instance: ...

    def sleep_until(self, moment: datetime) -> datetime:
        """Let the cloud's time reach `moment` (a simulator's clock is advanced, a real cloud is waited
        for) and return the cloud's time then. A moment in the past returns at once."""
        ...

    # -- volumes, snapshots, public addresses: what an account holds besides machines --------------------
    # A back end without them raises UnsupportedOperationError, saying so.
    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]: ...

    def get_volume(self, volume_id: str) -> Volume: ...

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:
        """Change a volume's type (and provisioned IOPS/throughput), as the cloud allows it online."""
        ...

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:
        """Delete an unattached volume, after a final snapshot of it (to make it again from) by default."""
        ...

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:
        """A new, unattached volume made from a snapshot: its volume's type and size."""
        ...

    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        """Snapshots (with `recycle_bin`, deleted ones still recoverable too)."""
        ...

    def get_snapshot(self, snapshot_id: str) -> Snapshot: ...

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot: ...

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        """Take a deleted snapshot back out of the recycle bin, while it is there."""
        ...

    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]: ...

    def get_address(self, allocation_id: str) -> Address: ...

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address: ...

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        """Allocate a released address again, while nobody else took it (a cloud that forgets released
        allocations, as EC2 does, allocates `public_ip` again instead, under a new id)."""
        ...

    # -- object storage ---------------------------------------------------------------------------------
    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]: ...

    def get_bucket(self, name: str) -> Bucket: ...

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        """Move every object of the bucket to `storage_class`; the bucket as it is now."""
        ...


def billable(filters: InstanceFilter | None, provider: str) -> InstanceFilter:
    """`filters` as a bill can apply them: by provider, region, application and tags. A state or a pricing
    model is not a dimension of the bill (a cost spans a machine's states), so it is refused, not dropped."""
    f = filters or InstanceFilter()
    if f.state is not None or f.pricing_model is not None:
        raise InvalidRequestError(
            "costs can be filtered by provider, region, application and tags, not by state or pricing model",
            provider=provider,
        )
    return f
