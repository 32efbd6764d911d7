"""Seeded fleets: applications with replicas, workload profiles, tags, regions and pricing models.

The same seed and size always give the same fleet. Applications are generated first (one profile, tier,
team, environment and instance type each) and their replicas become instances, as real fleets look.
"""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from mock_cloud.catalog import REGIONS, Catalog, InstanceType, PricingModel, Provider
from mock_cloud.instances import Instance, Segment, State
from mock_cloud.offices import TEAM_ZONES, TIMEZONE_TAG, UNATTENDED_TIERS
from mock_cloud.schedules import SCHEDULE_TAG, WEEKDAYS, running_at, scheduled_history
from mock_cloud.stable import stable_int, stable_unit
from mock_cloud.workloads import DAY, Profile, WorkloadParams

DEFAULT_PROVIDER_MIX: dict[Provider, float] = {"aws": 0.5, "gcp": 0.25, "azure": 0.25}

_PROFILE_WEIGHTS = {
    Profile.STEADY: 0.27,
    Profile.DIURNAL: 0.28,
    Profile.BURSTY: 0.14,
    Profile.IDLE: 0.13,
    Profile.OVERLOADED: 0.08,
    Profile.GPU: 0.10,
}
_TIERS: dict[Profile, tuple[str, ...]] = {
    Profile.STEADY: ("api", "worker", "database", "cache"),
    Profile.DIURNAL: ("web", "api"),
    Profile.BURSTY: ("batch", "worker", "api"),
    Profile.IDLE: ("sandbox", "worker", "web"),
    Profile.OVERLOADED: ("api", "database", "worker"),
    Profile.GPU: ("inference", "training"),
}
STATEFUL_TIERS = frozenset({"database", "cache"})
# (min, max) replicas per tier.
_REPLICAS = {
    "web": (2, 12), "api": (1, 10), "worker": (1, 6), "batch": (1, 4), "database": (1, 3), "cache": (1, 3),
    "sandbox": (1, 1), "inference": (1, 4), "training": (1, 2),
}  # fmt: skip
# Base p95 latency in ms of each tier when lightly loaded.
_LATENCY_MS = {
    "web": (40, 120), "api": (60, 250), "worker": (200, 2000), "batch": (1000, 10000), "database": (5, 30),
    "cache": (1, 5), "sandbox": (50, 200), "inference": (50, 300), "training": (1000, 5000),
}  # fmt: skip
_ROLE = {
    "web": "general", "api": "general", "worker": "compute", "batch": "compute", "database": "memory",
    "cache": "memory", "sandbox": "burstable", "inference": "gpu", "training": "gpu",
}  # fmt: skip
# The series real fleets use most, per provider and role.
_SERIES: dict[Provider, dict[str, tuple[str, ...]]] = {
    "aws": {
        "general": ("m5", "m6i", "m5a", "m7i"), "compute": ("c5", "c6i", "c5a"), "memory": ("r5", "r6i"),
        "burstable": ("t3", "t3a"), "gpu": ("g4dn", "g5", "p3"),
    },
    "gcp": {
        "general": ("n2-standard", "e2-standard", "n1-standard"), "compute": ("c2-standard", "n2-highcpu"),
        "memory": ("n2-highmem", "n1-highmem"), "burstable": ("e2-standard",), "gpu": (),
    },
    "azure": {
        "general": ("Ds_v3", "Ds_v4", "Das_v4"), "compute": ("Fs_v2",), "memory": ("Es_v3", "Es_v4"),
        "burstable": ("B",), "gpu": ("NCas_T4_v3", "NCs_v3"),
    },
}  # fmt: skip
_VCPU_CHOICES = {
    "general": ((2, 4, 8, 16, 32), (0.35, 0.3, 0.2, 0.1, 0.05)),
    "compute": ((2, 4, 8, 16, 32), (0.25, 0.3, 0.25, 0.15, 0.05)),
    "memory": ((2, 4, 8, 16, 32), (0.2, 0.3, 0.3, 0.15, 0.05)),
    "burstable": ((1, 2, 4), (0.3, 0.5, 0.2)),
    "gpu": ((4, 8, 16), (0.5, 0.35, 0.15)),
}
_TEAMS = tuple(TEAM_ZONES)
_COMPONENTS = {
    "web": ("frontend", "portal", "storefront"), "api": ("api", "gateway", "service"),
    "worker": ("worker", "consumer", "processor"), "batch": ("etl", "reporting", "nightly"),
    "database": ("postgres", "mysql", "mongo"), "cache": ("redis", "memcached"),
    "sandbox": ("sandbox", "poc"),
    "inference": ("inference", "embedder", "ranker"), "training": ("trainer", "finetune"),
}  # fmt: skip
_ENVIRONMENTS = ("production", "staging", "development")
_ENVIRONMENT_WEIGHTS = (0.5, 0.25, 0.25)
# Share of development applications whose team stops them over weekends (`schedule=weekdays`).
WEEKEND_SCHEDULED_SHARE = 0.5
# Applications decommissioned before now, as a share of the live fleet's machines: their machines are gone
# from the inventory (as EC2 forgets a terminated instance within the hour) but stay on the bill they ran up.
RETIRED_SHARE = 0.08
_RETIRED_STREAM = 0x0DEC0  # their own random stream, so that the live fleet of a seed stays as it was
_RETIRED_SERIALS = 1 << 40  # their instance serials, apart from the live fleet's and its replacements'
_MIN_LIFE = 7 * DAY
# Block storage per tier (GB of the root + data volume).
_VOLUME_GB = {"database": (200, 2000), "cache": (50, 200), "training": (200, 1000)}


@dataclass
class Application:
    """A service made of replicas; its replicas share load through a load balancer."""

    name: str
    team: str
    environment: str
    tier: str
    profile: Profile
    provider: Provider
    region: str
    replicas: int
    base_latency_ms: float
    base_error_rate: float
    slots: list[int] = field(default_factory=list)
    schedule: str | None = None  # `weekdays`: its machines are stopped from Friday evening to Monday

    @property
    def stateful(self) -> bool:
        return self.tier in STATEFUL_TIERS


@dataclass
class Fleet:
    applications: dict[str, Application]
    instances: list[Instance]
    workloads: list[WorkloadParams]  # one per slot; replicas of an application share one object
    workload_scale: list[float]  # per slot: its demand relative to the application's typical replica
    workload_traffic: list[int]  # per slot: the application's first slot, the traffic its replicas share
    retired: list[Instance] = field(default_factory=list)  # terminated before now: on the bill only


def instance_id(provider: Provider, seed: int, serial: int) -> str:
    """An id in the provider's style: AWS `i-0…` (17 hex), GCP `gcp-…` (16 digits), Azure `vm-…` (12 hex)."""
    n = stable_int(seed, "instance", serial)
    if provider == "aws":
        return f"i-0{n & ((1 << 64) - 1):016x}"
    if provider == "gcp":
        return f"gcp-{n % 10**16:016d}"
    return f"vm-{n & ((1 << 48) - 1):012x}"


@functools.cache
def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(itertools.accumulate(weights))


def _series_of(t: InstanceType) -> str:
    return t.name.rsplit("-", 1)[0] if t.provider == "gcp" else t.family


@functools.cache
def _series_index(catalog: Catalog) -> dict[tuple[str, str, str], list[InstanceType]]:
    index: dict[tuple[str, str, str], list[InstanceType]] = {}
    for t in catalog.types():
        for region in t.on_demand:
            index.setdefault((t.provider, region, _series_of(t)), []).append(t)
    return index


class FleetGenerator:
    def __init__(
        self,
        catalog: Catalog,
        seed: int,
        now: float,
        provider_mix: Mapping[Provider, float],
        *,
        stream: int | None = None,
        serial_base: int = 0,
        name_base: int = 0,
    ) -> None:
        self.catalog = catalog
        self.seed = seed
        self.now = now
        self.rng = np.random.default_rng(seed if stream is None else [seed, stream])
        self.serial_base = serial_base  # instance serials and application numbers start here
        self.name_base = name_base
        mix = {p: w for p, w in provider_mix.items() if w > 0}
        total = sum(mix.values())
        self.providers: list[Provider] = list(mix)
        self.provider_weights = tuple(w / total for w in mix.values())
        self.index = _series_index(catalog)

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def weighted(self, weights: tuple[float, ...]) -> int:
        """An index drawn with the given weights (bisecting a cumulative table beats `rng.choice(p=…)`)."""
        cumulative = _cumulative(weights)
        return min(bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1]), len(weights) - 1)

    def generate(self, size: int) -> Fleet:
        fleet = Fleet({}, [], [], [], [])
        # Generation allocates hundreds of thousands of acyclic objects; the cyclic collector would rescan the
        # growing lists over and over (30 % of the time at 100k), so it is paused while they are built.
        collecting = gc.isenabled()
        gc.disable()
        try:
            misses = 0
            while len(fleet.instances) < size:
                added = self._add_application(fleet, size - len(fleet.instances))
                misses = 0 if added else misses + 1
                if misses > 1000:  # a provider mix whose regions sell none of the fleet's series
                    raise ValueError("no instance type of the fleet's series is offered; check provider_mix")
        finally:
            if collecting:
                gc.enable()
        return fleet

    def _choose_type(self, provider: Provider, region: str, role: str) -> InstanceType | None:
        sizes, weights = _VCPU_CHOICES[role]
        want = sizes[self.weighted(weights)]
        candidates = [
            t for series in _SERIES[provider][role] for t in self.index.get((provider, region, series), [])
        ]
        if not candidates:
            return None
        best = min(abs(t.vcpus - want) for t in candidates)
        closest = sorted((t for t in candidates if abs(t.vcpus - want) == best), key=lambda t: t.name)
        return closest[int(self.rng.integers(len(closest)))]

    def _add_application(self, fleet: Fleet, room: int) -> bool:
        rng = self.rng
        profile = Profile(self.weighted(tuple(_PROFILE_WEIGHTS.values())))
        provider: Provider = self.providers[self.weighted(self.provider_weights)]
        if profile is Profile.GPU and not _SERIES[provider]["gpu"]:
            profile = Profile.STEADY  # GCP sells GPUs as separate accelerators, which the catalog lacks
        tier = self.pick(_TIERS[profile])
        region = self.pick(REGIONS[provider][:6])  # the busiest regions carry most fleets
        instance_type = self._choose_type(provider, region, _ROLE[tier])
        if instance_type is None:
            return False
        low, high = _REPLICAS[tier]
        replicas = min(room, int(rng.integers(low, high + 1)))
        team = self.pick(_TEAMS)
        environment = _ENVIRONMENTS[self.weighted(_ENVIRONMENT_WEIGHTS)]
        name = f"{team}-{self.pick(_COMPONENTS[tier])}-{self.name_base + len(fleet.applications):05d}"
        latency = _LATENCY_MS[tier]
        app = Application(
            name=name, team=team, environment=environment, tier=tier, profile=profile, provider=provider,
            region=region, replicas=replicas, base_latency_ms=round(float(rng.uniform(*latency)), 1),
            base_error_rate=round(float(rng.uniform(0.0005, 0.005)), 5),
        )  # fmt: skip
        # Drawn from the name, not the generator's stream, so that the rest of a seed's fleet stays as it was.
        weekend_off = stable_unit(self.seed, name, SCHEDULE_TAG) < WEEKEND_SCHEDULED_SHARE
        if environment == "development" and weekend_off:
            app.schedule = WEEKDAYS
        pricing = self._pricing_model(app)
        launched = self._launch_time()
        workload = self._workload(profile, tier, instance_type)
        if environment == "development" and tier not in UNATTENDED_TIERS:
            # Developers' machines are busy while their team is at work (mock_cloud/offices.py).
            workload = replace(workload, office_zone=TEAM_ZONES[team])
        # Replicas of one application are alike, not identical.
        jitters = rng.normal(1.0, 0.04, replicas)
        low_gb, high_gb = _VOLUME_GB.get(tier, (20, 200))
        volume_gb = int(rng.integers(low_gb, high_gb + 1))
        for replica in range(replicas):
            slot = len(fleet.workloads)
            app.slots.append(slot)
            fleet.workloads.append(workload)
            fleet.workload_scale.append(float(jitters[replica]))
            fleet.workload_traffic.append(app.slots[0])
            # Replicas launch together, as a deployment or autoscaling group starts them; so an untouched
            # application always has all its replicas up, which the fleet-wide fast path relies on.
            fleet.instances.append(
                self._instance(app, replica, slot, instance_type, pricing, launched, volume_gb)
            )
        fleet.applications[name] = app
        return True

    def _pricing_model(self, app: Application) -> PricingModel:
        u = self.rng.random()
        if app.stateful or (app.profile is Profile.GPU and app.tier == "inference"):
            return "reserved" if u < 0.25 else "on-demand"
        spot_share = 0.25 if app.environment != "production" else 0.08
        if u < spot_share:
            return "spot"
        if app.environment == "production" and u < spot_share + 0.2:
            return "reserved"
        return "on-demand"

    def _launch_time(self) -> float:
        young = self.rng.random() < 0.05
        days = self.rng.uniform(1, 12) if young else self.rng.uniform(15, 420)
        return float(np.floor(self.now - days * DAY))

    def _workload(self, profile: Profile, tier: str, t: InstanceType) -> WorkloadParams:
        u = self.rng.uniform
        burst_p = burst_share = 0.0
        if profile is Profile.STEADY:
            cpu_share, amplitude, noise = u(0.04, 0.55), u(0.0, 0.08), u(0.03, 0.08)
        elif profile is Profile.DIURNAL:
            cpu_share, amplitude, noise = u(0.08, 0.45), u(0.35, 0.75), u(0.05, 0.12)
        elif profile is Profile.BURSTY:
            cpu_share, amplitude, noise = u(0.03, 0.2), u(0.0, 0.2), u(0.1, 0.25)
            burst_p, burst_share = u(0.04, 0.15), u(0.5, 0.85)
        elif profile is Profile.IDLE:
            cpu_share, amplitude, noise = u(0.003, 0.022), 0.0, u(0.05, 0.2)
        elif profile is Profile.OVERLOADED:
            cpu_share, amplitude, noise = u(0.86, 1.05), u(0.0, 0.1), u(0.03, 0.06)
        else:
            cpu_share, amplitude, noise = u(0.2, 0.5), u(0.0, 0.3), u(0.05, 0.1)
        if profile is Profile.IDLE:
            memory_share = u(0.08, 0.3)
        elif profile is Profile.OVERLOADED:
            memory_share = u(0.7, 0.93)
        else:
            memory_share = u(0.55, 0.85) if tier in STATEFUL_TIERS else u(0.25, 0.7)
        return WorkloadParams(
            profile=profile,
            cpu_cores=t.vcpus * cpu_share,
            amplitude=amplitude,
            noise=noise,
            burst_probability=burst_p,
            burst_cores=t.vcpus * burst_share,
            memory_gb=t.memory_gb * memory_share,
            gpu_utilisation=u(0.4, 0.92) if profile is Profile.GPU else 0.0,
            # Idle machines barely talk (heartbeats, agents): tens of kbit/s, as idle-VM detectors expect.
            network_mbps=(u(0.005, 0.03) if profile is Profile.IDLE else u(20, 400)) * t.vcpus / 4,
            peak_hour=u(12, 22),
        )

    def _instance(
        self,
        app: Application,
        replica: int,
        slot: int,
        t: InstanceType,
        pricing: PricingModel,
        launch: float,
        volume_gb: int,
    ) -> Instance:
        tags = {
            "application": app.name,
            "environment": app.environment,
            "team": app.team,
            "tier": app.tier,
            "stateful": "true" if app.stateful else "false",
            "replicas": str(app.replicas),
            TIMEZONE_TAG: TEAM_ZONES[app.team],
        }
        if app.schedule is not None:
            tags[SCHEDULE_TAG] = app.schedule
            history = scheduled_history(launch, self.now, t.name)
            up = running_at(self.now)
        else:
            history, up = [Segment(launch, t.name, True)], True
        return Instance(
            id=instance_id(app.provider, self.seed, self.serial_base + slot),
            name=f"{app.name}-{replica}",
            provider=app.provider,
            region=app.region,
            instance_type=t.name,
            pricing_model=pricing,
            state=State.RUNNING if up else State.STOPPED,
            launch_time=launch,
            application=app.name,
            workload=slot,
            volume_gb=volume_gb,
            tags=tags,
            history=history,
            # Not `changed`: its history is its schedule's, which the fleet-wide fast path applies too; the
            # first stop or start after the clock began (the schedule's included) marks it changed.
            parked=not up,
        )


def generate_fleet(
    catalog: Catalog, seed: int, size: int, now: float, provider_mix: Mapping[Provider, float] | None = None
) -> Fleet:
    """`size` live instances in applications, and the retired ones before them, deterministic for (seed,
    size, provider_mix, now)."""
    mix = provider_mix or DEFAULT_PROVIDER_MIX
    fleet = FleetGenerator(catalog, seed, now, mix).generate(size)
    fleet.retired = _retired(catalog, seed, now, mix, round(size * RETIRED_SHARE), len(fleet.applications))
    return fleet


def _retired(
    catalog: Catalog, seed: int, now: float, mix: Mapping[Provider, float], size: int, numbered_from: int
) -> list[Instance]:
    """Applications that ran for a while and were decommissioned before `now`, each on a day of its own."""
    generator = FleetGenerator(
        catalog, seed, now, mix, stream=_RETIRED_STREAM, serial_base=_RETIRED_SERIALS, name_base=numbered_from
    )
    old = generator.generate(size) if size else Fleet({}, [], [], [], [])
    out = []
    for app in old.applications.values():
        machines = [old.instances[slot] for slot in app.slots]
        launched = machines[0].launch_time
        if now - DAY - launched < _MIN_LIFE:
            continue  # too young to have been decommissioned already
        gone = float(np.floor(launched + _MIN_LIFE + stable_unit(seed, app.name, "retired") * (
            now - DAY - launched - _MIN_LIFE)))  # fmt: skip
        for inst in machines:
            inst.history = [s for s in inst.history if s.start < gone] + [
                Segment(gone, inst.instance_type, False)
            ]
            inst.state, inst.terminated_at, inst.parked, inst.changed = State.TERMINATED, gone, False, True
            out.append(inst)
    return out
