"""The simulator: a seeded fleet on three clouds, changed only through cloud-like operations.

`CloudSimulator` is the API: reads, mutations (each with an optional idempotency key), observations and
faults. Lifecycle rules and timing live in `lifecycle`; every call first passes the fault injector, so a
failed call changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from mock_cloud.buckets import BucketView, generate_buckets
from mock_cloud.catalog import Catalog, Provider, check_pricing_model, check_provider, load_catalog
from mock_cloud.clock import SimClock
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE
from mock_cloud.costs import (
    CostReport,
    check_group_by,
    cost_matrix,
    cost_report,
    day_edges,
    running_seconds,
)
from mock_cloud.errors import (
    ApplicationNotFound,
    IdempotentParameterMismatch,
    InstanceNotFound,
    InvalidParameterValue,
)
from mock_cloud.faults import CostSpike, FaultInjector, FaultRule, QualityDegradation
from mock_cloud.fleet import Application, generate_fleet
from mock_cloud.instances import TRANSITIONAL, Instance, State
from mock_cloud.lifecycle import Lifecycle, SimEvent
from mock_cloud.load import ApplicationLoad, LoadModel
from mock_cloud.metrics import FleetUtilisation, MetricSeries, fleet_utilisation, instance_series
from mock_cloud.quality import QualityReport, TargetQuality, application_quality, target_quality
from mock_cloud.spot import SpotMarket
from mock_cloud.storage import (
    AddressView,
    SnapshotView,
    VolumeDeletion,
    VolumeView,
    generate_estate,
    matches,
)
from mock_cloud.views import (
    ApplicationView,
    InstancePage,
    InstanceView,
    Migration,
    application_view,
    instance_view,
)
from mock_cloud.workloads import DAY, F64, HOUR, WorkloadTable

T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")

MAX_METRIC_HOURS = 24 * 90
MAX_IDEMPOTENCY_KEY = 128


@dataclass(frozen=True)
class _IdempotentCall:
    fingerprint: tuple[object, ...]
    replay: Callable[[], object]


class CloudSimulator:
    """A simulated multi-cloud account holding a seeded fleet."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        size: int = DEFAULT_SIZE,
        *,
        provider_mix: Mapping[Provider, float] | None = None,
        clock: SimClock | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        if size < 0:
            raise InvalidParameterValue(f"size must be >= 0, got {size}")
        for provider in provider_mix or {}:
            check_provider(provider)
        self.seed = seed
        self.size = size
        self.clock = clock or SimClock()
        self.catalog = catalog or load_catalog()
        self.spot = SpotMarket(self.catalog, seed)
        self.faults = FaultInjector(seed)
        self.last_latency = 0.0  # injected latency of the last call, for a server running the clock live
        self.last_answer_hold = 0.0  # wall seconds a server holds the last call's answer (a slow answer)
        fleet = generate_fleet(self.catalog, seed, size, self.clock.now(), provider_mix)
        self.workloads = WorkloadTable(seed)
        self.workloads.extend(fleet.workloads, fleet.workload_scale, fleet.workload_traffic)
        self.load = LoadModel(self.catalog, self.workloads)
        self._applications: dict[str, Application] = fleet.applications
        self._cloud = Lifecycle(seed, self.catalog, self.spot, fleet, self.clock.now())
        self.storage = generate_estate(seed, self.clock.now(), fleet.instances, fleet.retired)
        self.buckets = generate_buckets(seed, self.clock.now(), fleet.instances)
        self._tokens: dict[str, _IdempotentCall] = {}

    # -- time -------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Advance simulated time, applying everything that happens meanwhile; returns the new time."""
        if seconds < 0:
            raise InvalidParameterValue(f"seconds must be >= 0, got {seconds}")
        self.clock.advance(seconds)
        self._settle()
        return self.now()

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> InstanceView:
        """Advance the clock until the instance is no longer pending, stopping or shutting down."""
        inst = self._get(instance_id)
        if inst.state in TRANSITIONAL and inst.transition_until is not None:
            wait = max(0.0, inst.transition_until - self.now())
            if wait > timeout:
                raise InvalidParameterValue(f"{instance_id} would not settle within {timeout} s")
            self.advance(wait)
        return self._view(inst)

    # -- reads ------------------------------------------------------------------------------------------
    def list_instances(
        self,
        *,
        provider: str | None = None,
        region: str | None = None,
        state: str | None = None,
        pricing_model: str | None = None,
        tags: Mapping[str, str] | None = None,
        application: str | None = None,
    ) -> list[InstanceView]:
        """Instances matching every given filter, in launch order."""
        return self.page_instances(
            provider=provider,
            region=region,
            state=state,
            pricing_model=pricing_model,
            tags=tags,
            application=application,
        ).instances

    def page_instances(
        self,
        *,
        provider: str | None = None,
        region: str | None = None,
        state: str | None = None,
        pricing_model: str | None = None,
        tags: Mapping[str, str] | None = None,
        application: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> InstancePage:
        """One page of the matching instances and the count of all matches (views only for the page)."""
        self._call("list_instances")
        if offset < 0 or (limit is not None and limit < 0):
            raise InvalidParameterValue("offset and limit must be >= 0")
        matching = self._matching(provider, region, state, pricing_model, tags, application)
        page = matching[offset : None if limit is None else offset + limit]
        return InstancePage([self._view(inst) for inst in page], len(matching))

    def _matching(
        self,
        provider: str | None = None,
        region: str | None = None,
        state: str | None = None,
        pricing_model: str | None = None,
        tags: Mapping[str, str] | None = None,
        application: str | None = None,
        *,
        retired: bool = False,
    ) -> list[Instance]:
        """The live machines matching every given filter; with `retired`, the decommissioned ones too."""
        if provider is not None:
            check_provider(provider)
        if pricing_model is not None:
            check_pricing_model(pricing_model)
        wanted_state = _check_state(state) if state is not None else None
        wanted_tags = list((tags or {}).items())
        everyone = list(self._cloud.instances.values()) + (self._cloud.retired if retired else [])
        if provider is region is wanted_state is pricing_model is application is None and not wanted_tags:
            return everyone  # the commonest listing (a page of the whole fleet): no test per instance
        return [
            inst
            for inst in everyone
            if (provider is None or inst.provider == provider)
            and (region is None or inst.region == region)
            and (wanted_state is None or inst.state == wanted_state)
            and (pricing_model is None or inst.pricing_model == pricing_model)
            and (application is None or inst.application == application)
            and (not wanted_tags or all(inst.tags.get(k) == v for k, v in wanted_tags))
        ]

    def get_instance(self, instance_id: str) -> InstanceView:
        self._call("get_instance")
        return self._view(self._get(instance_id))

    def applications(self) -> list[ApplicationView]:
        self._settle()
        return [application_view(app, self._cloud.members[app.name]) for app in self._applications.values()]

    def application(self, name: str) -> ApplicationView:
        self._settle()
        return application_view(self._application(name), self._cloud.members[name])

    def events(self, since: float | None = None) -> list[SimEvent]:
        self._settle()
        return [e for e in self._cloud.log if since is None or e.time >= since]

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """stopped → pending → running. Starting a running machine changes nothing, as on EC2."""
        return self._change("start", instance_id, (), idempotency_key, self._cloud.start)

    def stop(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """running → stopping → stopped. The machine stops serving (and billing compute) at once."""
        return self._change("stop", instance_id, (), idempotency_key, self._cloud.stop)

    def terminate(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """Any state → shutting-down → terminated. Terminating a terminated machine changes nothing."""
        return self._change("terminate", instance_id, (), idempotency_key, self._cloud.terminate)

    def resize(
        self, instance_id: str, instance_type: str, idempotency_key: str | None = None
    ) -> InstanceView:
        """Change the type of a stopped machine (a running one is refused, as EC2 refuses it)."""
        return self._change(
            "resize",
            instance_id,
            (instance_type,),
            idempotency_key,
            lambda inst, at: self._cloud.resize(inst, instance_type, at),
        )

    def tag(
        self,
        instance_id: str,
        tags: Mapping[str, str],
        remove: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> InstanceView:
        """Set `tags` on a machine and remove the keys in `remove` (absent keys are ignored), as EC2's
        CreateTags and DeleteTags do; `aws:` keys are the cloud's own and refused."""
        check_tags(tags, remove)

        def change(inst: Instance, at: float) -> None:
            if inst.state is State.TERMINATED:
                raise InstanceNotFound(f"The instance ID '{inst.id}' does not exist")
            for key in remove:
                inst.tags.pop(key, None)
            inst.tags.update(tags)

        arguments = (tuple(sorted(tags.items())), tuple(sorted(remove)))
        return self._change("tag", instance_id, arguments, idempotency_key, change)

    def migrate(
        self,
        instance_id: str,
        pricing_model: str,
        idempotency_key: str | None = None,
        *,
        replacement_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Migration:
        """Move a running machine to spot or back to on-demand by replacing it.

        A replacement of the target pricing model is launched with the same type, region and tags plus a
        `replaces` tag (and any `tags` given); once it runs, the original is terminated. The replacement
        has a new id: `replacement_id` when the caller names it, as Azure's and GCE's clients do.
        """
        target = check_pricing_model(pricing_model)

        def act() -> Migration:
            original = self._get(instance_id)
            replacement = self._cloud.migrate(original, target, self.now(), replacement_id, tags)
            return Migration(self._view(original), self._view(replacement))

        def replay() -> Migration:
            original = self._get(instance_id)
            assert original.replaced_by is not None
            return Migration(self._view(original), self._view(self._get(original.replaced_by)))

        return self._idempotent("migrate", (instance_id, target), idempotency_key, act, replay)

    def interrupt(self, instance_id: str) -> InstanceView:
        """Reclaim a running spot machine now: the notice is given at once, the interruption follows it."""
        self._settle()
        inst = self._get(instance_id)
        self._cloud.interrupt(inst, self.now())
        self._settle()
        return self._view(inst)

    # -- observations -----------------------------------------------------------------------------------
    def metrics(self, instance_id: str, hours: float = 24.0, period: int = 3600) -> MetricSeries:
        """CPU, memory, GPU and network of one machine over the last `hours`, one point per `period` s."""
        self._call("metrics")
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        if period not in (60, 300, 900, 3600):
            raise InvalidParameterValue(f"period must be one of 60, 300, 900, 3600 seconds, got {period}")
        inst = self._get(instance_id)
        app = self._applications[inst.application]
        return instance_series(self.load, app, self._cloud.members[app.name], inst, self.now(), hours, period)

    def uptime(self, instance_id: str, start: float, end: float, step: int) -> tuple[F64, F64]:
        """(period starts, seconds running in each) for one machine, `step`-second periods from `start`."""
        self._call("metrics")
        if not end > start or step <= 0 or (end - start) / step > 100_000:
            raise InvalidParameterValue(
                "uptime needs start < end and a step that makes at most 100,000 periods"
            )
        self._settle()
        edges = np.arange(start, min(end, self.now()) + step, step, dtype=np.float64)
        return edges[:-1], running_seconds(self._get(instance_id), edges)

    def fleet_utilisation(
        self, hours: float = 14 * 24, percentiles: Sequence[float] = (95.0,)
    ) -> FleetUtilisation:
        """Each live machine's CPU and memory percentiles, mean CPU and network over the last `hours`."""
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        if not percentiles or not all(0 <= q <= 100 for q in percentiles):
            raise InvalidParameterValue(f"percentiles must be in [0, 100], got {list(percentiles)}")
        self._call("metrics")
        live = [i for i in self._cloud.instances.values() if i.state is not State.TERMINATED]
        return fleet_utilisation(
            self.load, self._applications, self._cloud.members, live, self.now(), hours, percentiles
        )

    def application_quality(self, name: str, minutes: float = 60.0, step: int = 300) -> QualityReport:
        """p95 latency and error rate of an application over the last `minutes`, one point per `step` s."""
        self._call("quality")
        app, load, targets = self._targets(name, minutes, step)
        return application_quality(targets, app, load)

    def target_quality(
        self, name: str, minutes: float = 60.0, step: int = 60, end: float | None = None
    ) -> TargetQuality:
        """Each machine that served an application over the `minutes` before `end` (default now; replaced
        ones included), with its own p95 latency and error rate, one point per `step` s: what a load
        balancer reports per target, and what canary analysis compares."""
        self._call("quality")
        return self._targets(name, minutes, step, end)[2]

    def _targets(
        self, name: str, minutes: float, step: int, end: float | None = None
    ) -> tuple[Application, ApplicationLoad, TargetQuality]:
        if not 0 < minutes <= MAX_METRIC_HOURS * 60:
            raise InvalidParameterValue(f"minutes must be in (0, {MAX_METRIC_HOURS * 60}], got {minutes}")
        if not 10 <= step <= 3600:
            raise InvalidParameterValue(f"step must be between 10 and 3600 seconds, got {step}")
        app = self._application(name)
        now = self.now()
        # A millisecond of slack: a moment passed as a datetime is rounded to the microsecond.
        if end is not None and not now - MAX_METRIC_HOURS * 3600 < end <= now + 1e-3:
            raise InvalidParameterValue("end must lie within the metrics' retention and not in the future")
        last = now if end is None else min(end, now)
        count = max(1, int(minutes * 60 // step))
        times = last - np.arange(count - 1, -1, -1, dtype=np.float64) * step
        load = self.load.application(app, self._cloud.members[name], times)
        targets = target_quality(app, load, times, self.seed, self.faults.degradation, self._cloud.changed_at)
        return app, load, targets

    def costs(
        self,
        group_by: str | None = None,
        start: float | None = None,
        end: float | None = None,
        *,
        provider: str | None = None,
        region: str | None = None,
        application: str | None = None,
        tags: Mapping[str, str] | None = None,
        daily: bool = False,
    ) -> CostReport:
        """Accrued cost between `start` and `end` (default: the last 30 days) of the instances matching every
        given filter (terminated ones too, decommissioned applications' included, for the time they ran),
        optionally grouped; with `daily`, each group's amount per UTC day as well."""
        self._call("costs")
        check_group_by(group_by)
        end = self.now() if end is None else end
        start = end - 30 * DAY if start is None else start
        if end > self.now() + 1e-6:
            raise InvalidParameterValue("the cost window cannot end in the future")
        instances = self._matching(provider, region, tags=tags, application=application, retired=True)
        resources = self.storage.billing_rows(provider, region, application, tags)
        self.buckets.billing_rows(resources, provider, region, application, tags)
        matrix = cost_matrix(
            instances, day_edges(start, end), self.catalog, self.spot, self.faults.cost_spikes
        ).with_resources(resources)
        return cost_report(matrix, group_by, daily)

    def instance_hourly_costs(self, instance_id: str, hours: int = 24) -> list[tuple[float, float]]:
        """(hour start, accrued USD) for one machine in each of the last `hours` complete hours."""
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        self._settle()
        inst = self._get(instance_id)
        last = np.floor(self.now() / HOUR) * HOUR
        edges = last - np.arange(hours, -1, -1, dtype=np.float64) * HOUR
        matrix = cost_matrix([inst], edges, self.catalog, self.spot, self.faults.cost_spikes)
        amounts = (matrix.compute + matrix.storage)[0]
        return list(zip(edges[:-1].tolist(), amounts.tolist(), strict=True))

    def spot_price_history(
        self, provider: str, region: str, instance_type: str, hours: int = 24
    ) -> list[tuple[float, float]]:
        """(hour start, USD/h) of the spot market for one type in one region."""
        check_provider(provider)
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        now = self.now()
        times = (np.floor(now / HOUR) - np.arange(hours)[::-1]) * HOUR
        return list(
            zip(
                times.tolist(), self.spot.prices(provider, region, instance_type, times).tolist(), strict=True
            )
        )

    # -- volumes, snapshots, addresses ------------------------------------------------------------------
    def list_volumes(
        self, *, provider: str | None = None, region: str | None = None, state: str | None = None,
        tags: Mapping[str, str] | None = None, offset: int = 0, limit: int | None = None,
    ) -> ResourcePage[VolumeView]:  # fmt: skip
        """Data volumes (`state`: in-use or available) matching every filter, a page of them and the count."""
        self._call("list_volumes")
        _check_filters(provider, state, ("in-use", "available"))
        now = self.now()
        found = [
            v for v in self.storage.live_volumes()
            if matches(v, provider, region, tags=tags)
            and (state is None or (v.attached_to is not None) == (state == "in-use"))
        ]  # fmt: skip
        return _page(found, offset, limit, lambda v: self.storage.volume_view(v, now))

    def get_volume(self, volume_id: str) -> VolumeView:
        self._call("get_volume")
        return self.storage.volume_view(self.storage.volume(volume_id), self.now())

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
        idempotency_key: str | None = None,
    ) -> VolumeView:
        """Change a volume's type (and its provisioned IOPS and throughput), as the cloud allows it."""

        def act() -> VolumeView:
            v = self.storage.volume(volume_id)
            machine = self._cloud.instances.get(v.attached_to or "")
            running = machine is not None and machine.state is State.RUNNING
            self.storage.modify_volume(volume_id, volume_type, iops, throughput_mbps, self.now(), running)
            if machine is not None:
                self._cloud.changed_at.setdefault(machine.id, []).append(self.now())
            return self.storage.volume_view(v, self.now())

        arguments = (volume_id, volume_type, iops, throughput_mbps)
        return self._idempotent(
            "modify_volume", arguments, idempotency_key, act, lambda: self._volume_now(volume_id)
        )

    def delete_volume(
        self, volume_id: str, final_snapshot: bool = True, idempotency_key: str | None = None
    ) -> VolumeDeletion:
        """Delete an available volume, after a final snapshot of it unless told not to."""

        def act() -> VolumeDeletion:
            v, snap = self.storage.delete_volume(volume_id, final_snapshot, self.now())
            return self._deletion(v.id, snap.id if snap else None)

        def replay() -> VolumeDeletion:
            snap = next(
                (
                    s.id
                    for s in self.storage.snapshots.values()
                    if s.tags.get("final-snapshot-of") == volume_id
                ),
                None,
            )
            return self._deletion(volume_id, snap if final_snapshot else None)

        return self._idempotent("delete_volume", (volume_id, final_snapshot), idempotency_key, act, replay)

    def restore_volume(
        self, snapshot_id: str, tags: Mapping[str, str] | None = None, idempotency_key: str | None = None
    ) -> VolumeView:
        """A new, available volume made from a snapshot (the snapshot's volume's type and size)."""
        made: list[str] = []

        def act() -> VolumeView:
            v = self.storage.restore_volume(snapshot_id, self.now(), tags)
            made.append(v.id)
            return self.storage.volume_view(v, self.now())

        def replay() -> VolumeView:
            return self.storage.volume_view(self.storage.volumes[made[0]], self.now())

        arguments = (snapshot_id, tuple(sorted((tags or {}).items())))
        return self._idempotent("restore_volume", arguments, idempotency_key, act, replay)

    def list_snapshots(
        self, *, provider: str | None = None, region: str | None = None, volume_id: str | None = None,
        tags: Mapping[str, str] | None = None, recycle_bin: bool = False, offset: int = 0,
        limit: int | None = None,
    ) -> ResourcePage[SnapshotView]:  # fmt: skip
        """Snapshots matching every filter (with `recycle_bin`, the deleted ones still recoverable too)."""
        self._call("list_snapshots")
        _check_filters(provider)
        now = self.now()
        found = [
            s for s in self.storage.live_snapshots(now, recycle_bin=recycle_bin)
            if matches(s, provider, region, tags=tags)
            and (volume_id is None or s.volume_id == volume_id)
        ]  # fmt: skip
        return _page(found, offset, limit, lambda s: self.storage.snapshot_view(s, now))

    def get_snapshot(self, snapshot_id: str) -> SnapshotView:
        self._call("get_snapshot")
        now = self.now()
        return self.storage.snapshot_view(self.storage.snapshot(snapshot_id, now, in_bin=True), now)

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str | None = None) -> SnapshotView:
        """Delete a snapshot: it waits in the recycle bin (billed, recoverable) for RECYCLE_BIN_DAYS."""
        return self._snapshot_change(
            "delete_snapshot", snapshot_id, idempotency_key, self.storage.delete_snapshot
        )

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str | None = None) -> SnapshotView:
        """Take a deleted snapshot back out of the recycle bin."""
        return self._snapshot_change(
            "recover_snapshot", snapshot_id, idempotency_key, self.storage.recover_snapshot
        )

    def list_addresses(
        self, *, provider: str | None = None, region: str | None = None, state: str | None = None,
        tags: Mapping[str, str] | None = None, offset: int = 0, limit: int | None = None,
    ) -> ResourcePage[AddressView]:  # fmt: skip
        """Allocated public addresses (`state`: in-use or idle) matching every filter."""
        self._call("list_addresses")
        _check_filters(provider, state, ("in-use", "idle"))
        now = self.now()
        found = [
            a for a in self.storage.live_addresses()
            if matches(a, provider, region, tags=tags)
            and (state is None or (a.attached_to is not None) == (state == "in-use"))
        ]  # fmt: skip
        return _page(found, offset, limit, lambda a: self.storage.address_view(a, now))

    def get_address(self, allocation_id: str) -> AddressView:
        self._call("get_address")
        now = self.now()
        return self.storage.address_view(self.storage.address(allocation_id, now, released=True), now)

    def release_address(self, allocation_id: str, idempotency_key: str | None = None) -> AddressView:
        """Give an idle address back (an attached one is refused)."""
        return self._address_change(
            "release_address", allocation_id, idempotency_key, self.storage.release_address
        )

    def recover_address(self, allocation_id: str, idempotency_key: str | None = None) -> AddressView:
        """Allocate a released address again, while nobody else took it."""
        return self._address_change(
            "recover_address", allocation_id, idempotency_key, self.storage.recover_address
        )

    # -- object storage ---------------------------------------------------------------------------------
    def list_buckets(
        self, *, provider: str | None = None, region: str | None = None, storage_class: str | None = None,
        application: str | None = None, tags: Mapping[str, str] | None = None, offset: int = 0,
        limit: int | None = None,
    ) -> ResourcePage[BucketView]:  # fmt: skip
        """Buckets matching every filter, by name."""
        self._call("list_buckets")
        _check_filters(provider)
        found = [
            b for _, b in sorted(self.buckets.buckets.items())
            if matches(b, provider, region, application, tags)
            and (storage_class is None or b.current.storage_class == storage_class)
        ]  # fmt: skip
        return _page(found, offset, limit, self.buckets.view)

    def get_bucket(self, name: str) -> BucketView:
        self._call("get_bucket")
        return self.buckets.view(self.buckets.bucket(name))

    def set_bucket_class(
        self, name: str, storage_class: str, idempotency_key: str | None = None
    ) -> BucketView:
        """Move every object of a bucket to `storage_class` (S3 storage classes, Azure access tiers, Cloud
        Storage classes): charged as the cloud charges it (see `Buckets.set_class`)."""

        def view() -> BucketView:
            return self.buckets.view(self.buckets.bucket(name))

        def act() -> BucketView:
            self.buckets.set_class(name, storage_class, self.now())
            return view()

        return self._idempotent("set_bucket_class", (name, storage_class), idempotency_key, act, view)

    def _volume_now(self, volume_id: str) -> VolumeView:
        return self.storage.volume_view(self.storage.volumes[volume_id], self.now())

    def _deletion(self, volume_id: str, snapshot_id: str | None) -> VolumeDeletion:
        now = self.now()
        snap = self.storage.snapshots.get(snapshot_id) if snapshot_id else None
        return VolumeDeletion(
            self._volume_now(volume_id), self.storage.snapshot_view(snap, now) if snap else None
        )

    def _snapshot_change(
        self, operation: str, snapshot_id: str, key: str | None, change: Callable[[str, float], object]
    ) -> SnapshotView:
        def view() -> SnapshotView:
            return self.storage.snapshot_view(self.storage.snapshots[snapshot_id], self.now())

        def act() -> SnapshotView:
            change(snapshot_id, self.now())
            return view()

        return self._idempotent(operation, (snapshot_id,), key, act, view)

    def _address_change(
        self, operation: str, allocation_id: str, key: str | None, change: Callable[[str, float], object]
    ) -> AddressView:
        def view() -> AddressView:
            return self.storage.address_view(self.storage.addresses[allocation_id], self.now())

        def act() -> AddressView:
            change(allocation_id, self.now())
            return view()

        return self._idempotent(operation, (allocation_id,), key, act, view)

    # -- faults -----------------------------------------------------------------------------------------
    def set_faults(
        self,
        rules: Mapping[str, FaultRule],
        degradation: tuple[float, float] | None = None,
        cost_spikes: Sequence[CostSpike] = (),
    ) -> None:
        """Replace the injected faults.

        `degradation` = (latency factor, error-rate increase) hits applications changed from now on;
        `cost_spikes` change the bill over their windows, past or future (see `CostSpike`).
        """
        self.faults.configure(dict(rules))
        self.faults.cost_spikes = tuple(cost_spikes)
        self.faults.degradation = (
            QualityDegradation(degradation[0], degradation[1], self.now())
            if degradation is not None
            else None
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- internals --------------------------------------------------------------------------------------
    def _call(self, operation: str) -> None:
        """Every API call: injected faults first (so a failed call changes nothing), then catch up on time."""
        latency, self.last_answer_hold = self.faults.check(operation)
        self.last_latency = latency
        if latency and not self.clock.speed:
            self.clock.advance(latency)
        self._settle()

    def _settle(self) -> None:
        self._cloud.settle(self.now())
        self.storage.follow(self._cloud.log, self._cloud.instances)

    def _change(
        self,
        operation: str,
        instance_id: str,
        arguments: tuple[object, ...],
        idempotency_key: str | None,
        change: Callable[[Instance, float], None],
    ) -> InstanceView:
        """A mutation of one instance that returns its new view."""

        def act() -> InstanceView:
            inst = self._get(instance_id)
            change(inst, self.now())
            return self._view(inst)

        return self._idempotent(
            operation,
            (instance_id, *arguments),
            idempotency_key,
            act,
            lambda: self._view(self._get(instance_id)),
        )

    def _idempotent(
        self,
        operation: str,
        arguments: tuple[object, ...],
        idempotency_key: str | None,
        act: Callable[[], T],
        replay: Callable[[], T],
    ) -> T:
        """Run `act` once per key: a repeated key replays the first call's result (fresh state, same ids)."""
        self._call(operation)
        fingerprint = (operation, *arguments)
        if idempotency_key is not None:
            if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
                raise InvalidParameterValue(
                    f"an idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                )
            earlier = self._tokens.get(idempotency_key)
            if earlier is not None:
                if earlier.fingerprint != fingerprint:
                    raise IdempotentParameterMismatch(
                        f"The idempotency key '{idempotency_key}' was already used for "
                        f"{earlier.fingerprint[0]} on {earlier.fingerprint[1]}"
                    )
                return earlier.replay()  # type: ignore[return-value]
        result = act()  # raises before any change when the request is refused
        if idempotency_key is not None:
            self._tokens[idempotency_key] = _IdempotentCall(fingerprint, replay)
        return result

    def _get(self, instance_id: str) -> Instance:
        inst = self._cloud.instances.get(instance_id)
        if inst is None:
            raise InstanceNotFound(f"The instance ID '{instance_id}' does not exist")
        return inst

    def _application(self, name: str) -> Application:
        app = self._applications.get(name)
        if app is None:
            raise ApplicationNotFound(f"The application '{name}' does not exist")
        return app

    def _view(self, inst: Instance) -> InstanceView:
        return instance_view(inst, self.catalog, self.spot, self.now())


@dataclass(frozen=True)
class ResourcePage(Generic[V]):
    items: list[V]
    total: int


def _page(found: Sequence[R], offset: int, limit: int | None, view: Callable[[R], V]) -> ResourcePage[V]:
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidParameterValue("offset and limit must be >= 0")
    return ResourcePage(
        [view(r) for r in found[offset : None if limit is None else offset + limit]], len(found)
    )


MAX_TAGS = 50
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256


def check_tags(tags: Mapping[str, str], remove: Sequence[str] = ()) -> None:
    """EC2's limits on tags: 1-128 character keys, values up to 256, 50 a resource, no `aws:` keys."""
    for key in (*tags, *remove):
        if not 0 < len(key) <= MAX_TAG_KEY or key.lower().startswith("aws:"):
            raise InvalidParameterValue(f"tag key '{key}' must be 1 to {MAX_TAG_KEY} characters, not aws:")
    for key, value in tags.items():
        if len(value) > MAX_TAG_VALUE:
            raise InvalidParameterValue(f"the value of tag '{key}' is over {MAX_TAG_VALUE} characters")
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"at most {MAX_TAGS} tags a resource")


def _check_filters(provider: str | None, state: str | None = None, states: tuple[str, ...] = ()) -> None:
    """Refuse an unknown provider, or a state not among `states`, before anything is listed."""
    if provider is not None:
        check_provider(provider)
    if state is not None and state not in states:
        raise InvalidParameterValue(f"Unknown state '{state}'; expected one of: {', '.join(states)}")


def _check_state(state: str) -> State:
    try:
        return State(state)
    except ValueError:
        raise InvalidParameterValue(
            f"Unknown state '{state}'; expected one of: {', '.join(s.value for s in State)}"
        ) from None
