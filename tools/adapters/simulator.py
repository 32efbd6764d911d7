"""The simulator, in-process: the fastest provider, and the one the demos and tests run on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TypeVar

from pydantic import BaseModel

from mock_cloud import CloudSimulator, SimulatorError
from mock_cloud.views import InstanceView
from tools.adapters.resizing import resize_by_restart
from tools.errors import InvalidRequestError, from_cloud_code
from tools.models import (
    Address,
    ApplicationQuality,
    Bucket,
    CostBreakdown,
    CostGroup,
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
from tools.provider import billable
from tools.resilience import ResilientProvider


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except SimulatorError as exc:
        raise from_cloud_code(exc.code, exc.message, "simulator") from exc


def _instance(view: InstanceView) -> Instance:
    return Instance.model_validate(view, from_attributes=True)


class SimulatorProvider:
    """A CloudProvider over a `CloudSimulator` in this process; waiting advances its virtual clock."""

    name = "simulator"

    def __init__(self, simulator: CloudSimulator) -> None:
        self.simulator = simulator

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.simulator.now(), UTC)

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        return self._page(filters, 0, None).instances

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        return self._page(filters, offset, limit)

    def _page(self, filters: InstanceFilter | None, offset: int, limit: int | None) -> InstancePage:
        f = filters or InstanceFilter()
        with _translated():
            page = self.simulator.page_instances(
                provider=f.provider, region=f.region, state=f.state, pricing_model=f.pricing_model,
                tags=f.tags, application=f.application, offset=offset, limit=limit,
            )  # fmt: skip
        return InstancePage(total=page.total, instances=[_instance(v) for v in page.instances])

    def get_instance(self, instance_id: str) -> Instance:
        with _translated():
            return _instance(self.simulator.get_instance(instance_id))

    def instance_types(self, provider: str, region: str | None = None) -> list[InstanceTypeOffer]:
        with _translated():
            offerings = self.simulator.catalog.offerings(provider, region)
        return [InstanceTypeOffer.model_validate(o.to_dict()) for o in offerings]

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        with _translated():
            m = self.simulator.metrics(instance_id, hours, period)
        return MetricSeries(
            instance_id,
            m.period,
            m.timestamps,
            m.cpu_pct,
            m.memory_pct,
            m.network_in_mbps + m.network_out_mbps,
        )

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        with _translated():
            u = self.simulator.fleet_utilisation(hours, percentiles)
        return UtilisationSummary(
            hours=u.hours,
            percentiles=u.percentiles,
            instance_ids=u.instance_ids,
            cpu_pct=u.cpu_pct,
            memory_pct=u.memory_pct,
            cpu_mean_pct=u.cpu_mean_pct,
            network_mean_mbps=u.network_mean_mbps,
            observed_hours=u.observed_hours,
        )

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        with _translated():
            q = self.simulator.application_quality(application, minutes)
        return ApplicationQuality(
            application=q.application,
            timestamps=q.timestamps.tolist(),
            p95_latency_ms=q.p95_latency_ms.tolist(),
            error_rate=q.error_rate.tolist(),
            baseline_latency_ms=q.baseline_latency_ms,
            baseline_error_rate=q.baseline_error_rate,
            serving_replicas=q.serving_replicas,
            desired_replicas=q.desired_replicas,
        )

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        end = until.timestamp() if until is not None else None
        with _translated():
            q = self.simulator.target_quality(application, minutes, step_seconds, end)
        return TargetQuality(
            q.application, step_seconds, q.timestamps, list(q.instance_ids), q.p95_latency_ms, q.error_rate
        )

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        if days <= 0:
            raise InvalidRequestError(f"days must be > 0, got {days}", provider=self.name)
        f = billable(filters, self.name)
        end = self.simulator.now() if until is None else until.timestamp()
        with _translated():
            r = self.simulator.costs(
                group_by,
                start=end - days * 86400,
                end=end,
                provider=f.provider,
                region=f.region,
                application=f.application,
                tags=f.tags,
                daily=daily,
            )
        return CostBreakdown(
            start=datetime.fromtimestamp(r.start, UTC),
            end=datetime.fromtimestamp(r.end, UTC),
            group_by=r.group_by,
            total=r.total,
            groups=[CostGroup(key=g.key, amount=g.amount, daily=g.daily) for g in r.groups],
            days=[date.fromisoformat(d) for d in r.days] if r.days is not None else None,
        )

    def start(self, instance_id: str, idempotency_key: str) -> Instance:
        with _translated():
            return _instance(self.simulator.start(instance_id, idempotency_key))

    def stop(self, instance_id: str, idempotency_key: str) -> Instance:
        with _translated():
            return _instance(self.simulator.stop(instance_id, idempotency_key))

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        with _translated():
            return _instance(self.simulator.terminate(instance_id, idempotency_key))

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        def change_type(key: str) -> None:
            with _translated():
                self.simulator.resize(instance_id, instance_type, key)

        return resize_by_restart(self, instance_id, instance_type, idempotency_key, change_type)

    def writes_tags(self) -> bool:
        return True

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        with _translated():
            return _instance(self.simulator.tag(instance_id, tags, remove, idempotency_key))

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration:
        with _translated():
            m = self.simulator.migrate(instance_id, pricing_model, idempotency_key)
        return Migration(original=_instance(m.original), replacement=_instance(m.replacement))

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> Instance:
        with _translated():
            return _instance(self.simulator.wait_until_stable(instance_id, timeout))

    def sleep_until(self, moment: datetime) -> datetime:
        remaining = moment.timestamp() - self.simulator.now()
        if remaining > 0:
            self.simulator.advance(remaining)
        return self.now()

    # -- volumes, snapshots, addresses ------------------------------------------------------------------
    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]:
        f = filters or ResourceFilter()
        with _translated():
            page = self.simulator.list_volumes(
                provider=f.provider, region=f.region, state=f.state, tags=f.tag_filter()
            )
        return [_model(Volume, v) for v in page.items]

    def get_volume(self, volume_id: str) -> Volume:
        with _translated():
            return _model(Volume, self.simulator.get_volume(volume_id))

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:
        with _translated():
            view = self.simulator.modify_volume(
                volume_id, volume_type, iops, throughput_mbps, idempotency_key
            )
        return _model(Volume, view)

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:
        with _translated():
            done = self.simulator.delete_volume(volume_id, final_snapshot, idempotency_key)
        return _model(VolumeDeletion, done)

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:
        with _translated():
            return _model(Volume, self.simulator.restore_volume(snapshot_id, tags, idempotency_key))

    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        f = filters or ResourceFilter()
        with _translated():
            page = self.simulator.list_snapshots(
                provider=f.provider, region=f.region, tags=f.tag_filter(), recycle_bin=recycle_bin
            )
        return [_model(Snapshot, s) for s in page.items]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        with _translated():
            return _model(Snapshot, self.simulator.get_snapshot(snapshot_id))

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        with _translated():
            return _model(Snapshot, self.simulator.delete_snapshot(snapshot_id, idempotency_key))

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        with _translated():
            return _model(Snapshot, self.simulator.recover_snapshot(snapshot_id, idempotency_key))

    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]:
        f = filters or ResourceFilter()
        with _translated():
            page = self.simulator.list_addresses(
                provider=f.provider, region=f.region, state=f.state, tags=f.tag_filter()
            )
        return [_model(Address, a) for a in page.items]

    def get_address(self, allocation_id: str) -> Address:
        with _translated():
            return _model(Address, self.simulator.get_address(allocation_id))

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address:
        with _translated():
            return _model(Address, self.simulator.release_address(allocation_id, idempotency_key))

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        with _translated():
            return _model(Address, self.simulator.recover_address(allocation_id, idempotency_key))

    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]:
        f = filters or ResourceFilter()
        with _translated():
            page = self.simulator.list_buckets(
                provider=f.provider, region=f.region, application=f.application, tags=f.tag_filter()
            )
        return [_model(Bucket, b) for b in page.items]

    def get_bucket(self, name: str) -> Bucket:
        with _translated():
            return _model(Bucket, self.simulator.get_bucket(name))

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        with _translated():
            return _model(Bucket, self.simulator.set_bucket_class(name, storage_class, idempotency_key))


M = TypeVar("M", bound=BaseModel)


def _model(model: type[M], view: object) -> M:
    return model.model_validate(view, from_attributes=True)


def resilient_simulator(sim: CloudSimulator) -> ResilientProvider:
    """The in-process simulator as workflows and chat use it: retried on throttling and outages, backing off
    in the simulator's time rather than the caller's."""
    return ResilientProvider(
        SimulatorProvider(sim), sleep=lambda seconds: None if sim.advance(seconds) else None
    )
