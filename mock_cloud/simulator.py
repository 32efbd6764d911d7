"""The simulator: a seeded fleet on three clouds, changed only through cloud-like operations.

Time is virtual. Operations that take time in a real cloud (boot, stop, termination, spot interruptions) are
events on a queue, applied in order whenever the clock has passed them, so reading the simulator at any time
shows exactly the state a real cloud would show then.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from mock_cloud.catalog import (
    Catalog,
    PricingModel,
    Provider,
    check_pricing_model,
    check_provider,
    load_catalog,
)
from mock_cloud.clock import SimClock
from mock_cloud.costs import CostReport, check_group_by, cost_matrix, cost_report, day_edges
from mock_cloud.errors import (
    ApplicationNotFound,
    IdempotentParameterMismatch,
    IncorrectInstanceState,
    InstanceNotFound,
    InvalidParameterValue,
)
from mock_cloud.faults import FaultInjector, FaultRule, QualityDegradation
from mock_cloud.fleet import Application, generate_fleet, instance_id
from mock_cloud.instances import TRANSITIONAL, Instance, InstanceView, Segment, State
from mock_cloud.load import LoadModel
from mock_cloud.metrics import FleetUtilisation, MetricSeries, fleet_utilisation, instance_series
from mock_cloud.noise import stable_unit
from mock_cloud.quality import QualityReport, application_quality
from mock_cloud.spot import INTERRUPTED_STATE, NOTICE_SECONDS, SpotMarket
from mock_cloud.workloads import DAY, HOUR, WorkloadTable

T = TypeVar("T")

# Seconds each transition takes, (min, max): EC2 boots in well under a minute, most in 5-20 s.
BOOT_SECONDS = (5.0, 20.0)
STOP_SECONDS = (10.0, 30.0)
TERMINATE_SECONDS = (5.0, 15.0)
MAX_METRIC_HOURS = 24 * 90
REPLACES_TAG = "replaces"


@dataclass(frozen=True)
class Migration:
    """A pricing-model migration: the replacement launched and the original it will retire."""

    original: InstanceView
    replacement: InstanceView


@dataclass(frozen=True)
class SimEvent:
    """Something that happened in the simulated cloud, for logs and tests."""

    time: float
    kind: str
    instance_id: str
    detail: str = ""


@dataclass(frozen=True)
class ApplicationView:
    name: str
    team: str
    environment: str
    tier: str
    stateful: bool
    profile: str
    provider: Provider
    region: str
    replicas: int
    instance_ids: list[str]


@dataclass(frozen=True)
class _IdempotentCall:
    fingerprint: tuple[object, ...]
    replay: Callable[[], object]


class CloudSimulator:
    """A simulated multi-cloud account holding a seeded fleet."""

    def __init__(
        self,
        seed: int = 0,
        size: int = 100,
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
        self.last_latency = 0.0
        fleet = generate_fleet(self.catalog, seed, size, self.clock.now(), provider_mix)
        self.workloads = WorkloadTable(seed)
        self.workloads.extend(fleet.workloads, fleet.workload_scale)
        self.load = LoadModel(self.catalog, self.workloads)
        self._applications: dict[str, Application] = fleet.applications
        self._instances: dict[str, Instance] = {i.id: i for i in fleet.instances}
        self._members: dict[str, list[Instance]] = {}
        for inst in fleet.instances:
            self._members.setdefault(inst.application, []).append(inst)
        self._serial = len(fleet.workloads)  # next instance serial; slots took the first ones
        self._queue: list[tuple[float, int, str, str]] = []
        self._sequence = 0
        self._tokens: dict[str, _IdempotentCall] = {}
        self._change_times: dict[str, list[float]] = {}
        self._log: list[SimEvent] = []
        now = self.clock.now()
        for inst in fleet.instances:
            if inst.pricing_model == "spot":
                self._schedule_interruption(inst, running_since=now)

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
        self._call("list_instances")
        if provider is not None:
            check_provider(provider)
        if pricing_model is not None:
            check_pricing_model(pricing_model)
        wanted_state = _check_state(state) if state is not None else None
        wanted_tags = list((tags or {}).items())
        return [
            self._view(inst)
            for inst in self._instances.values()
            if (provider is None or inst.provider == provider)
            and (region is None or inst.region == region)
            and (wanted_state is None or inst.state == wanted_state)
            and (pricing_model is None or inst.pricing_model == pricing_model)
            and (application is None or inst.application == application)
            and all(inst.tags.get(k) == v for k, v in wanted_tags)
        ]

    def get_instance(self, instance_id: str) -> InstanceView:
        self._call("get_instance")
        return self._view(self._get(instance_id))

    def applications(self) -> list[ApplicationView]:
        self._settle()
        return [self._application_view(app) for app in self._applications.values()]

    def application(self, name: str) -> ApplicationView:
        self._settle()
        return self._application_view(self._application(name))

    def events(self, since: float | None = None) -> list[SimEvent]:
        self._settle()
        return [e for e in self._log if since is None or e.time >= since]

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """stopped → pending → running. Starting a running machine changes nothing, as on EC2."""

        def act() -> InstanceView:
            inst = self._get(instance_id)
            if inst.state in (State.PENDING, State.RUNNING):
                return self._view(inst)
            if inst.state is not State.STOPPED:
                raise IncorrectInstanceState(
                    f"The instance '{instance_id}' is not in a state from which it can be started "
                    f"({inst.state})"
                )
            self._begin(inst, State.PENDING, BOOT_SECONDS, "boot", self.now())
            self._emit(inst, "starting", self.now())
            return self._view(inst)

        return self._mutation(
            "start", (instance_id,), idempotency_key, act, lambda: self._view(self._get(instance_id))
        )

    def stop(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """running → stopping → stopped. The machine stops serving (and billing compute) at once."""

        def act() -> InstanceView:
            inst = self._get(instance_id)
            if inst.state in (State.STOPPING, State.STOPPED):
                return self._view(inst)
            if inst.state is not State.RUNNING:
                raise IncorrectInstanceState(
                    f"The instance '{instance_id}' is not in a state from which it can be stopped "
                    f"({inst.state})"
                )
            now = self.now()
            inst.record(now, running=False)
            inst.interruption_at = inst.interruption_notice_at = None
            self._begin(inst, State.STOPPING, STOP_SECONDS, "stopped", now)
            self._note_change(inst, now)
            self._emit(inst, "stopping", now)
            return self._view(inst)

        return self._mutation(
            "stop", (instance_id,), idempotency_key, act, lambda: self._view(self._get(instance_id))
        )

    def terminate(self, instance_id: str, idempotency_key: str | None = None) -> InstanceView:
        """Any state → shutting-down → terminated. Terminating a terminated machine changes nothing."""

        def act() -> InstanceView:
            inst = self._get(instance_id)
            if inst.state in (State.SHUTTING_DOWN, State.TERMINATED):
                return self._view(inst)
            self._shut_down(inst, self.now())
            return self._view(inst)

        return self._mutation(
            "terminate", (instance_id,), idempotency_key, act, lambda: self._view(self._get(instance_id))
        )

    def resize(
        self, instance_id: str, instance_type: str, idempotency_key: str | None = None
    ) -> InstanceView:
        """Change the type of a stopped machine (a running one is refused, as EC2 refuses it)."""

        def act() -> InstanceView:
            inst = self._get(instance_id)
            self.catalog.offering(inst.provider, inst.region, instance_type)
            if inst.state is not State.STOPPED:
                raise IncorrectInstanceState(
                    f"The instance '{instance_id}' must be stopped to change its type (it is {inst.state})"
                )
            if instance_type != inst.instance_type:
                now = self.now()
                self._emit(inst, "resized", now, f"{inst.instance_type} -> {instance_type}")
                inst.instance_type = instance_type
                inst.record(now, running=False, instance_type=instance_type)
                self._note_change(inst, now)
            return self._view(inst)

        return self._mutation(
            "resize",
            (instance_id, instance_type),
            idempotency_key,
            act,
            lambda: self._view(self._get(instance_id)),
        )

    def migrate(self, instance_id: str, pricing_model: str, idempotency_key: str | None = None) -> Migration:
        """Move a running machine to spot or back to on-demand by replacing it.

        A replacement of the target pricing model is launched with the same type, region and tags plus a
        `replaces` tag; once it runs, the original is terminated. The replacement has a new id.
        """
        target = check_pricing_model(pricing_model)

        def act() -> Migration:
            inst = self._get(instance_id)
            if target == "reserved":
                raise InvalidParameterValue(
                    "Reserved capacity is a billing commitment, not a machine to migrate to; use on-demand"
                )
            if inst.pricing_model == target:
                raise InvalidParameterValue(f"The instance '{instance_id}' is already {target}")
            if inst.state is not State.RUNNING or inst.replaced_by is not None:
                raise IncorrectInstanceState(
                    f"The instance '{instance_id}' must be running to be migrated (it is {inst.state}"
                    + (f", already replaced by {inst.replaced_by})" if inst.replaced_by else ")")
                )
            replacement = self._launch_replacement(inst, target)
            return Migration(self._view(inst), self._view(replacement))

        def replay() -> Migration:
            original = self._get(instance_id)
            assert original.replaced_by is not None
            return Migration(self._view(original), self._view(self._get(original.replaced_by)))

        return self._mutation("migrate", (instance_id, target), idempotency_key, act, replay)

    def interrupt(self, instance_id: str) -> InstanceView:
        """Reclaim a running spot machine now: the notice is given at once, the interruption follows it."""
        self._settle()
        inst = self._get(instance_id)
        if inst.pricing_model != "spot" or inst.state is not State.RUNNING:
            raise IncorrectInstanceState(f"Only a running spot instance can be interrupted ({instance_id} is "
                                         f"{inst.state}, {inst.pricing_model})")  # fmt: skip
        at = self.now() + NOTICE_SECONDS[inst.provider]
        inst.interruption_at = at
        self._push(at - NOTICE_SECONDS[inst.provider], "spot_notice", inst.id)
        self._push(at, "spot_interrupt", inst.id)
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
        return instance_series(self.load, app, self._members[app.name], inst, self.now(), hours, period)

    def fleet_utilisation(self, hours: float = 14 * 24, percentile: float = 95.0) -> FleetUtilisation:
        """Each live machine's CPU and memory percentile over the last `hours` (hourly points), columnar."""
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        if not 0 <= percentile <= 100:
            raise InvalidParameterValue(f"percentile must be in [0, 100], got {percentile}")
        self._settle()
        live = [i for i in self._instances.values() if i.state is not State.TERMINATED]
        return fleet_utilisation(
            self.load, self._applications, self._members, live, self.now(), hours, percentile
        )

    def application_quality(self, name: str, minutes: float = 60.0, step: int = 300) -> QualityReport:
        """p95 latency and error rate of an application over the last `minutes`, one point per `step` s."""
        self._call("quality")
        if not 0 < minutes <= MAX_METRIC_HOURS * 60:
            raise InvalidParameterValue(f"minutes must be in (0, {MAX_METRIC_HOURS * 60}], got {minutes}")
        if not 10 <= step <= 3600:
            raise InvalidParameterValue(f"step must be between 10 and 3600 seconds, got {step}")
        app = self._application(name)
        now = self.now()
        count = max(1, int(minutes * 60 // step))
        times = now - np.arange(count - 1, -1, -1, dtype=np.float64) * step
        load = self.load.application(app, self._members[name], times)
        return application_quality(
            app, load, times, self.seed, self.faults.degradation, self._change_times.get(name, [])
        )

    def costs(
        self, group_by: str | None = None, start: float | None = None, end: float | None = None
    ) -> CostReport:
        """Accrued cost between `start` and `end` (default: the last 30 days), optionally grouped."""
        self._call("costs")
        check_group_by(group_by)
        end = self.now() if end is None else end
        start = end - 30 * DAY if start is None else start
        if end > self.now() + 1e-6:
            raise InvalidParameterValue("the cost window cannot end in the future")
        matrix = cost_matrix(list(self._instances.values()), day_edges(start, end), self.catalog, self.spot)
        return cost_report(matrix, group_by)

    def instance_hourly_costs(self, instance_id: str, hours: int = 24) -> list[tuple[float, float]]:
        """(hour start, accrued USD) for one machine in each of the last `hours` complete hours."""
        if not 0 < hours <= MAX_METRIC_HOURS:
            raise InvalidParameterValue(f"hours must be in (0, {MAX_METRIC_HOURS}], got {hours}")
        self._settle()
        inst = self._get(instance_id)
        last = np.floor(self.now() / HOUR) * HOUR
        edges = last - np.arange(hours, -1, -1, dtype=np.float64) * HOUR
        matrix = cost_matrix([inst], edges, self.catalog, self.spot)
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

    # -- faults -----------------------------------------------------------------------------------------
    def set_faults(
        self, rules: Mapping[str, FaultRule], degradation: tuple[float, float] | None = None
    ) -> None:
        """Replace the fault rules.

        `degradation` = (latency factor, error-rate increase) hits applications changed from now on.
        """
        self.faults.configure(dict(rules))
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
        latency = self.faults.check(operation)
        self.last_latency = latency
        if latency and not self.clock.speed:
            self.clock.advance(latency)
        self._settle()

    def _mutation(
        self,
        operation: str,
        arguments: tuple[object, ...],
        idempotency_key: str | None,
        act: Callable[[], T],
        replay: Callable[[], T],
    ) -> T:
        self._call(operation)
        fingerprint = (operation, *arguments)
        if idempotency_key is not None:
            if not 0 < len(idempotency_key) <= 128:
                raise InvalidParameterValue("an idempotency key must be 1 to 128 characters")
            earlier = self._tokens.get(idempotency_key)
            if earlier is not None:
                if earlier.fingerprint != fingerprint:
                    raise IdempotentParameterMismatch(
                        f"The idempotency key '{idempotency_key}' was already used for "
                        f"{earlier.fingerprint[0]} on {earlier.fingerprint[1]}"
                    )
                return earlier.replay()  # type: ignore[return-value]
        result = act()
        if idempotency_key is not None:
            self._tokens[idempotency_key] = _IdempotentCall(fingerprint, replay)
        return result

    def _get(self, instance_id: str) -> Instance:
        inst = self._instances.get(instance_id)
        if inst is None:
            raise InstanceNotFound(f"The instance ID '{instance_id}' does not exist")
        return inst

    def _application(self, name: str) -> Application:
        app = self._applications.get(name)
        if app is None:
            raise ApplicationNotFound(f"The application '{name}' does not exist")
        return app

    def _duration(self, inst: Instance, kind: str, bounds: tuple[float, float], at: float) -> float:
        u = stable_unit(self.seed, inst.id, kind, len(inst.history), at)
        return bounds[0] + (bounds[1] - bounds[0]) * u

    def _begin(self, inst: Instance, state: State, bounds: tuple[float, float], done: str, at: float) -> None:
        inst.state = state
        inst.transition_until = at + self._duration(inst, done, bounds, at)
        self._push(inst.transition_until, done, inst.id)

    def _shut_down(self, inst: Instance, at: float) -> None:
        if inst.state is State.RUNNING:
            inst.record(at, running=False)
            self._note_change(inst, at)
        inst.interruption_at = inst.interruption_notice_at = None
        self._begin(inst, State.SHUTTING_DOWN, TERMINATE_SECONDS, "terminated", at)
        self._emit(inst, "terminating", at)

    def _launch_replacement(self, original: Instance, pricing_model: PricingModel) -> Instance:
        serial = self._serial
        self._serial += 1
        now = self.now()
        replacement = Instance(
            id=instance_id(original.provider, self.seed, serial),
            name=original.name,
            provider=original.provider,
            region=original.region,
            instance_type=original.instance_type,
            pricing_model=pricing_model,
            state=State.PENDING,
            launch_time=now,
            application=original.application,
            workload=original.workload,
            volume_gb=original.volume_gb,
            tags={**original.tags, REPLACES_TAG: original.id},
            history=[Segment(now, original.instance_type, False)],
            replaces=original.id,
        )
        original.replaced_by = replacement.id
        self._instances[replacement.id] = replacement
        self._members[original.application].append(replacement)
        self._begin(replacement, State.PENDING, BOOT_SECONDS, "boot", now)
        self._note_change(replacement, now)
        self._emit(replacement, "launched", now, f"{pricing_model} replacement for {original.id}")
        return replacement

    def _schedule_interruption(self, inst: Instance, running_since: float) -> None:
        at = self.spot.interruption_time(inst.id, inst.provider, inst.instance_type, running_since)
        inst.interruption_at = at
        self._push(at - NOTICE_SECONDS[inst.provider], "spot_notice", inst.id)
        self._push(at, "spot_interrupt", inst.id)

    def _push(self, at: float, kind: str, instance_id: str) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (at, self._sequence, kind, instance_id))

    def _settle(self) -> None:
        """Apply, in time order, every queued event the clock has passed; each at its own time."""
        now = self.now()
        while self._queue and self._queue[0][0] <= now:
            at, _, kind, instance_id = heapq.heappop(self._queue)
            self._apply(kind, self._instances[instance_id], at)

    def _apply(self, kind: str, inst: Instance, at: float) -> None:
        if kind == "boot" and inst.state is State.PENDING and inst.transition_until == at:
            inst.state, inst.transition_until = State.RUNNING, None
            inst.record(at, running=True)
            self._emit(inst, "running", at)
            if inst.pricing_model == "spot":
                self._schedule_interruption(inst, running_since=at)
            if inst.replaces is not None:
                original = self._instances[inst.replaces]
                if original.state not in (State.SHUTTING_DOWN, State.TERMINATED):
                    self._shut_down(original, at)
        elif kind == "stopped" and inst.state is State.STOPPING and inst.transition_until == at:
            inst.state, inst.transition_until = State.STOPPED, None
            self._emit(inst, "stopped", at)
        elif kind == "terminated" and inst.state is State.SHUTTING_DOWN and inst.transition_until == at:
            inst.state, inst.transition_until, inst.terminated_at = State.TERMINATED, None, at
            self._emit(inst, "terminated", at)
        elif kind == "spot_notice" and inst.state is State.RUNNING and inst.interruption_at is not None:
            if abs(inst.interruption_at - NOTICE_SECONDS[inst.provider] - at) < 1e-6:
                inst.interruption_notice_at = at
                self._emit(
                    inst, "spot_interruption_notice", at, f"interruption at {inst.interruption_at:.0f}"
                )
        elif kind == "spot_interrupt" and inst.state is State.RUNNING and inst.interruption_at == at:
            inst.record(at, running=False)
            inst.interruption_at = inst.interruption_notice_at = None
            self._note_change(inst, at)
            if INTERRUPTED_STATE[inst.provider] is State.TERMINATED:
                inst.state, inst.terminated_at = State.TERMINATED, at
            else:
                inst.state = State.STOPPED
            self._emit(inst, "spot_interrupted", at, f"now {inst.state}")

    def _note_change(self, inst: Instance, at: float) -> None:
        self._change_times.setdefault(inst.application, []).append(at)

    def _emit(self, inst: Instance, kind: str, at: float, detail: str = "") -> None:
        self._log.append(SimEvent(at, kind, inst.id, detail))

    def _view(self, inst: Instance) -> InstanceView:
        t = self.catalog.get(inst.provider, inst.instance_type)
        if inst.pricing_model == "spot":
            hourly = self.spot.price(inst.provider, inst.region, inst.instance_type, self.now())
        else:
            hourly = t.price(inst.region, inst.pricing_model)
        noticed = inst.interruption_notice_at is not None
        return InstanceView(
            id=inst.id,
            name=inst.name,
            provider=inst.provider,
            region=inst.region,
            instance_type=inst.instance_type,
            pricing_model=inst.pricing_model,
            state=inst.state,
            launch_time=inst.launch_time,
            application=inst.application,
            tags=dict(inst.tags),
            vcpus=t.vcpus,
            memory_gb=t.memory_gb,
            gpu_count=t.gpu_count,
            hourly_price=round(hourly, 6),
            volume_gb=inst.volume_gb,
            state_transition_until=inst.transition_until,
            interruption_notice_at=inst.interruption_notice_at,
            # Like the clouds, the time of an interruption is only known once its notice is out.
            interruption_at=inst.interruption_at if noticed else None,
            replaces=inst.replaces,
            replaced_by=inst.replaced_by,
        )

    def _application_view(self, app: Application) -> ApplicationView:
        return ApplicationView(
            name=app.name,
            team=app.team,
            environment=app.environment,
            tier=app.tier,
            stateful=app.stateful,
            profile=app.profile.label,
            provider=app.provider,
            region=app.region,
            replicas=app.replicas,
            instance_ids=[m.id for m in self._members[app.name] if m.state is not State.TERMINATED],
        )


def _check_state(state: str) -> State:
    try:
        return State(state)
    except ValueError:
        raise InvalidParameterValue(
            f"Unknown state '{state}'; expected one of: {', '.join(s.value for s in State)}"
        ) from None
