"""The control plane: lifecycle rules, and the queue of things that finish later.

Operations that take time in a real cloud (boot, stop, termination, a spot replacement taking over, spot
interruptions) are events on a queue, applied in time order once the clock has passed them, each at its own
time. Reading the simulator at any moment therefore shows exactly what a real cloud would show then.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from mock_cloud.catalog import Catalog, PricingModel
from mock_cloud.errors import IncorrectInstanceState, InvalidParameterValue
from mock_cloud.fleet import Fleet, instance_id
from mock_cloud.instances import Instance, Segment, State
from mock_cloud.schedules import SCHEDULE_TAG, transitions
from mock_cloud.spot import INTERRUPTED_STATE, NOTICE_SECONDS, SpotMarket
from mock_cloud.stable import stable_unit

# Seconds each transition takes, (min, max): EC2 boots in well under a minute, most in 5-20 s.
BOOT_SECONDS = (5.0, 20.0)
STOP_SECONDS = (10.0, 30.0)
TERMINATE_SECONDS = (5.0, 15.0)
REPLACES_TAG = "replaces"


@dataclass(frozen=True)
class SimEvent:
    """Something that happened in the simulated cloud, for logs and tests."""

    time: float
    kind: str
    instance_id: str
    detail: str = ""


class Lifecycle:
    """Owns the instances and everything that changes them."""

    def __init__(self, seed: int, catalog: Catalog, spot: SpotMarket, fleet: Fleet, now: float) -> None:
        self.seed = seed
        self.catalog = catalog
        self.spot = spot
        self.instances: dict[str, Instance] = {i.id: i for i in fleet.instances}
        self.retired = fleet.retired  # terminated before the simulation began: billed, no longer listed
        self.members: dict[str, list[Instance]] = {}  # per application, every machine that ever served it
        for inst in fleet.instances:
            self.members.setdefault(inst.application, []).append(inst)
        self.changed_at: dict[str, list[float]] = {}  # per instance: when it was stopped, resized, replaced…
        self.log: list[SimEvent] = []
        self._serial = len(fleet.workloads)  # next instance serial; the fleet's slots took the first ones
        self._queue: list[tuple[float, int, str, str]] = []
        self._sequence = 0
        for inst in fleet.instances:
            if inst.pricing_model == "spot":
                self._schedule_interruption(inst, running_since=now)
            self._follow_schedule(inst, now)

    # -- operations (each at time `at`; the caller has settled the queue up to it) ----------------------
    def start(self, inst: Instance, at: float) -> None:
        """stopped → pending → running. Starting a running machine changes nothing, as on EC2."""
        if inst.state in (State.PENDING, State.RUNNING):
            return
        if inst.state is not State.STOPPED:
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be started ({inst.state})"
            )
        inst.parked = False  # started by hand over a weekend: the schedule stops it again on Friday
        self._begin(inst, State.PENDING, BOOT_SECONDS, "boot", at)
        self._emit(inst, "starting", at)

    def stop(self, inst: Instance, at: float) -> None:
        """running → stopping → stopped. The machine stops serving (and billing compute) at once."""
        if inst.state in (State.STOPPING, State.STOPPED):
            return
        if inst.state is not State.RUNNING:
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be stopped ({inst.state})"
            )
        inst.record(at, running=False)
        inst.interruption_at = inst.interruption_notice_at = None
        self._begin(inst, State.STOPPING, STOP_SECONDS, "stopped", at)
        self._note_change(inst, at)
        self._emit(inst, "stopping", at)

    def terminate(self, inst: Instance, at: float) -> None:
        """Any state → shutting-down → terminated. Terminating a terminated machine changes nothing."""
        if inst.state in (State.SHUTTING_DOWN, State.TERMINATED):
            return
        if inst.state is State.RUNNING:
            inst.record(at, running=False)
            self._note_change(inst, at)
        inst.interruption_at = inst.interruption_notice_at = None
        self._begin(inst, State.SHUTTING_DOWN, TERMINATE_SECONDS, "terminated", at)
        self._emit(inst, "terminating", at)

    def resize(self, inst: Instance, instance_type: str, at: float) -> None:
        """Change the type of a stopped machine (a running one is refused, as EC2 refuses it)."""
        self.catalog.offering(inst.provider, inst.region, instance_type)
        if inst.state is not State.STOPPED:
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' must be stopped to change its type (it is {inst.state})"
            )
        if instance_type == inst.instance_type:
            return
        self._emit(inst, "resized", at, f"{inst.instance_type} -> {instance_type}")
        inst.instance_type = instance_type
        inst.record(at, running=False, instance_type=instance_type)
        self._note_change(inst, at)

    def migrate(
        self,
        original: Instance,
        pricing_model: PricingModel,
        at: float,
        replacement_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Instance:
        """Launch a replacement of `pricing_model`; the original retires once the replacement runs. A
        cloud dialect whose clients name their machines passes the name (`replacement_id`) and the tags
        they asked for."""
        if pricing_model == "reserved":
            raise InvalidParameterValue(
                "Reserved capacity is a billing commitment, not a machine to migrate to; use on-demand"
            )
        if original.pricing_model == pricing_model:
            raise InvalidParameterValue(f"The instance '{original.id}' is already {pricing_model}")
        if original.state is not State.RUNNING or original.replaced_by is not None:
            replaced = f", already replaced by {original.replaced_by}" if original.replaced_by else ""
            raise IncorrectInstanceState(
                f"The instance '{original.id}' must be running to be migrated "
                f"(it is {original.state}{replaced})"
            )
        if replacement_id is not None and replacement_id in self.instances:
            raise InvalidParameterValue(f"An instance named '{replacement_id}' exists already")
        serial = self._serial
        self._serial += 1
        replacement = Instance(
            id=replacement_id or instance_id(original.provider, self.seed, serial),
            name=original.name,
            provider=original.provider,
            region=original.region,
            instance_type=original.instance_type,
            pricing_model=pricing_model,
            state=State.PENDING,
            launch_time=at,
            application=original.application,
            workload=original.workload,
            volume_gb=original.volume_gb,
            tags={**original.tags, **(tags or {}), REPLACES_TAG: original.id},
            history=[Segment(at, original.instance_type, False)],
            replaces=original.id,
        )
        original.replaced_by = replacement.id
        self.instances[replacement.id] = replacement
        self.members[original.application].append(replacement)
        self._begin(replacement, State.PENDING, BOOT_SECONDS, "boot", at)
        self._follow_schedule(replacement, at)
        self._note_change(replacement, at)
        self._emit(replacement, "launched", at, f"{pricing_model} replacement for {original.id}")
        return replacement

    def interrupt(self, inst: Instance, at: float) -> None:
        """Reclaim a running spot machine: the notice now, the interruption when the notice runs out."""
        if inst.pricing_model != "spot" or inst.state is not State.RUNNING:
            raise IncorrectInstanceState(
                f"Only a running spot instance can be interrupted "
                f"({inst.id} is {inst.state}, {inst.pricing_model})"
            )
        self._plan_interruption(inst, at + NOTICE_SECONDS[inst.provider])

    # -- the event queue --------------------------------------------------------------------------------
    def settle(self, now: float) -> None:
        """Apply, in time order, every queued event up to `now`; each at its own time."""
        while self._queue and self._queue[0][0] <= now:
            at, _, kind, iid = heapq.heappop(self._queue)
            self._apply(kind, self.instances[iid], at)

    def _apply(self, kind: str, inst: Instance, at: float) -> None:
        # An event is stale when the instance moved on meanwhile (stopped before its interruption, ...).
        if kind == "boot" and inst.state is State.PENDING and inst.transition_until == at:
            inst.state, inst.transition_until = State.RUNNING, None
            inst.record(at, running=True)
            self._emit(inst, "running", at)
            if inst.pricing_model == "spot":
                self._schedule_interruption(inst, running_since=at)
            if inst.replaces is not None:
                self.terminate(self.instances[inst.replaces], at)
        elif kind == "stopped" and inst.state is State.STOPPING and inst.transition_until == at:
            inst.state, inst.transition_until = State.STOPPED, None
            self._emit(inst, "stopped", at)
        elif kind == "terminated" and inst.state is State.SHUTTING_DOWN and inst.transition_until == at:
            inst.state, inst.transition_until, inst.terminated_at = State.TERMINATED, None, at
            self._emit(inst, "terminated", at)
        elif kind in ("schedule_stop", "schedule_start"):
            self._apply_schedule(kind, inst, at)
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

    def _apply_schedule(self, kind: str, inst: Instance, at: float) -> None:
        """A weekend schedule's boundary: park a running machine, or start one the schedule parked."""
        if inst.state is State.TERMINATED or inst.replaced_by is not None:
            return  # the schedule ends with the machine (a replacement follows its own)
        if kind == "schedule_stop" and inst.state is State.RUNNING:
            self.stop(inst, at)
            inst.parked = True
        elif kind == "schedule_start" and inst.state is State.STOPPED and inst.parked:
            self.start(inst, at)
        self._follow_schedule(inst, at)

    def _follow_schedule(self, inst: Instance, after: float) -> None:
        """Queue the next boundary of the machine's schedule, if it has one."""
        if inst.tags.get(SCHEDULE_TAG) is None:
            return
        at, running = next(transitions(after))
        self._push(at, "schedule_start" if running else "schedule_stop", inst.id)

    def _begin(self, inst: Instance, state: State, bounds: tuple[float, float], done: str, at: float) -> None:
        u = stable_unit(self.seed, inst.id, done, len(inst.history), at)
        inst.state = state
        inst.transition_until = at + bounds[0] + (bounds[1] - bounds[0]) * u
        self._push(inst.transition_until, done, inst.id)

    def _schedule_interruption(self, inst: Instance, running_since: float) -> None:
        at = self.spot.interruption_time(inst.id, inst.provider, inst.instance_type, running_since)
        self._plan_interruption(inst, at)

    def _plan_interruption(self, inst: Instance, at: float) -> None:
        inst.interruption_at = at
        self._push(at - NOTICE_SECONDS[inst.provider], "spot_notice", inst.id)
        self._push(at, "spot_interrupt", inst.id)

    def _push(self, at: float, kind: str, iid: str) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (at, self._sequence, kind, iid))

    def _note_change(self, inst: Instance, at: float) -> None:
        self.changed_at.setdefault(inst.id, []).append(at)

    def _emit(self, inst: Instance, kind: str, at: float, detail: str = "") -> None:
        self.log.append(SimEvent(at, kind, inst.id, detail))
