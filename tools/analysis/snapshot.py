"""A fleet as the engines see it: the running instances in scope, their types' offers, and utilisation,
as columns aligned on the instances. Built once from a provider, or by hand in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from tools.analysis.off_hours import candidates
from tools.analysis.settings import AnalysisSettings
from tools.models import Instance, InstanceFilter, InstanceTypeOffer, MetricSeries, UtilisationSummary
from tools.provider import CloudProvider

F64 = npt.NDArray[np.float64]
PERCENTILES = (90.0, 95.0, 99.5)


# General-purpose, compute- and memory-optimised types run the same software the same way: a workload
# moves between them as its CPU and memory needs say (AWS Compute Optimizer recommends across them too).
# Burstable (CPU credits), storage (local disks), GPU and accelerator types are what they are for a reason.
_STANDARD_CATEGORIES = frozenset({"general", "compute", "memory"})
TypeGroup = tuple[str, int, str]  # (category class, GPUs, architecture)


def type_group(offer: InstanceTypeOffer) -> TypeGroup:
    """The types a machine of this type may be resized to: the same class of category, the same GPUs and
    the same processor architecture (software built for x86 does not run on Graviton)."""
    kind = "standard" if offer.category in _STANDARD_CATEGORIES else offer.category
    return kind, offer.gpu_count, offer.architecture


@dataclass(frozen=True)
class CandidateTable:
    """Per group of interchangeable types (rows), its rightsizing candidates cheapest first, padded to one
    width.

    An offer is left out when a cheaper or equally priced one of its group has at least its vCPUs and
    memory: it can never be the cheapest type that fits. Padding never fits (negative capacity).
    """

    vcpus: npt.NDArray[np.float32]
    memory: npt.NDArray[np.float32]
    price: npt.NDArray[np.float64]
    index: npt.NDArray[np.intp]  # each candidate's index among all group offers laid end to end
    largest: npt.NDArray[np.intp]  # per group, the column of its largest type

    @classmethod
    def of(cls, group_offers: list[list[InstanceTypeOffer]]) -> CandidateTable:
        kept: list[list[tuple[int, InstanceTypeOffer]]] = []
        start = 0
        for offers in group_offers:
            frontier: list[tuple[int, InstanceTypeOffer]] = []
            for k, o in enumerate(offers):  # cheapest first
                if not any(f.vcpus >= o.vcpus and f.memory_gb >= o.memory_gb for _, f in frontier):
                    frontier.append((start + k, o))
            kept.append(frontier)
            start += len(offers)
        width = max((len(f) for f in kept), default=1)
        vcpus = np.full((len(kept), width), -1.0, np.float32)
        memory = np.full((len(kept), width), -1.0, np.float32)
        price = np.full((len(kept), width), np.inf)
        index = np.full((len(kept), width), -1, np.intp)
        for g, frontier in enumerate(kept):
            n = len(frontier)
            index[g, :n] = [k for k, _ in frontier]
            vcpus[g, :n] = [o.vcpus for _, o in frontier]
            memory[g, :n] = [o.memory_gb for _, o in frontier]
            price[g, :n] = [o.on_demand_hourly for _, o in frontier]
        return cls(vcpus, memory, price, index, vcpus.argmax(axis=1))


@dataclass
class FleetSnapshot:
    now: datetime
    instances: list[Instance]
    offers: dict[tuple[str, str], list[InstanceTypeOffer]]  # (provider, region) → offers, cheapest first
    long: UtilisationSummary  # the rightsizing lookback, percentiles 90/95/99.5
    short: UtilisationSummary  # the idle lookback
    # Hourly series of the off-hours candidates, by instance id; read only when off-hours advice is asked.
    hourly_series: dict[str, MetricSeries] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be analysed, and why

    def __post_init__(self) -> None:
        n = len(self.instances)
        by_name = {(p, r, o.name): o for (p, r), offers in self.offers.items() for o in offers}
        try:
            self.offer = [by_name[(i.provider, i.region, i.instance_type)] for i in self.instances]
        except KeyError as missing:
            raise KeyError(f"{missing.args[0]} has no offer in the snapshot") from None
        self.vcpus = np.fromiter((i.vcpus for i in self.instances), np.float64, n)
        self.memory_gb = np.fromiter((i.memory_gb for i in self.instances), np.float64, n)
        self.hourly = np.fromiter((i.hourly_price for i in self.instances), np.float64, n)
        self.on_demand = np.fromiter((o.on_demand_hourly for o in self.offer), np.float64, n)
        self.spot = np.fromiter((o.spot_hourly for o in self.offer), np.float64, n)
        self.reserved = np.fromiter((o.reserved_hourly for o in self.offer), np.float64, n)
        ages = ((self.now - i.launch_time).total_seconds() / 86400 for i in self.instances)
        self.age_days = np.fromiter(ages, np.float64, n)
        # Each instance's group of interchangeable types in its region: rightsizing looks for targets there.
        group_of: dict[tuple[str, str, TypeGroup], int] = {}
        self.group = np.fromiter(
            (group_of.setdefault((i.provider, i.region, type_group(o)), len(group_of))
             for i, o in zip(self.instances, self.offer, strict=True)),
            np.intp,
            n,
        )  # fmt: skip
        self.group_offers = [
            [o for o in self.offers[(p, r)] if type_group(o) == group] for (p, r, group) in group_of
        ]
        self.candidates = CandidateTable.of(self.group_offers)
        self._long_rows = _align(self.instances, self.long)
        self._short_rows = _align(self.instances, self.short)

    def cpu(self, percentile: float) -> F64:
        return _take(self.long.cpu(percentile), self._long_rows)

    def memory(self, percentile: float) -> F64:
        return _take(self.long.memory(percentile), self._long_rows)

    @property
    def observed_hours(self) -> F64:
        return _take(self.long.observed_hours.astype(np.float64), self._long_rows, fill=0.0)

    @property
    def uptime(self) -> F64:
        """The share of the rightsizing lookback each machine ran (of its life, if younger): what a month's
        estimate scales its hourly saving by, since the cloud bills compute only while a machine runs (a
        machine stopped every weekend runs about 65 % of the month)."""
        return _uptime(self.observed_hours, self.long.hours, self.age_days)

    @property
    def idle_uptime(self) -> F64:
        """`uptime` over the idle lookback."""
        return _uptime(self.idle_observed_hours, self.short.hours, self.age_days)

    @property
    def idle_cpu_p95(self) -> F64:
        return _take(self.short.cpu(95.0), self._short_rows)

    @property
    def idle_network_mbps(self) -> F64:
        return _take(self.short.network_mean_mbps, self._short_rows)

    @property
    def idle_observed_hours(self) -> F64:
        return _take(self.short.observed_hours.astype(np.float64), self._short_rows, fill=0.0)


def _uptime(observed_hours: F64, lookback_hours: float, age_days: F64) -> F64:
    # A machine younger than the lookback is measured over its life; the current hour counts as observed.
    span = np.clip(np.minimum(lookback_hours, age_days * 24), 1.0, None)
    return np.clip(observed_hours / span, 0.0, 1.0)


def _align(instances: list[Instance], summary: UtilisationSummary) -> npt.NDArray[np.intp]:
    """Row of each instance in `summary` (-1 where it has none)."""
    row_of = {iid: k for k, iid in enumerate(summary.instance_ids)}
    return np.fromiter((row_of.get(i.id, -1) for i in instances), np.intp, len(instances))


def _take(column: npt.NDArray[np.generic], rows: npt.NDArray[np.intp], fill: float = np.nan) -> F64:
    values = column.astype(np.float64)[np.maximum(rows, 0)] if len(column) else np.zeros(len(rows))
    return np.where(rows >= 0, values, fill)


def collect(
    provider: CloudProvider,
    scope: InstanceFilter | None = None,
    settings: AnalysisSettings | None = None,
    hourly: bool = False,
) -> FleetSnapshot:
    """Read what the engines need from a provider: a few bulk calls, whatever the fleet's size; with
    `hourly`, each off-hours candidate's hourly series too (a call per candidate)."""
    settings = settings or AnalysisSettings()
    scope = (scope or InstanceFilter()).model_copy(update={"state": "running"})
    instances = provider.list_instances(scope)
    regions: set[tuple[str, str]] = {(i.provider, i.region) for i in instances}
    offers = {key: provider.instance_types(*key) for key in sorted(regions)}
    long = provider.utilisation(settings.rightsizing.lookback_hours, PERCENTILES)
    short = provider.utilisation(settings.idle.lookback_hours, (95.0,))
    series: dict[str, MetricSeries] = {}
    notes = []
    if hourly and not provider.writes_tags():
        notes.append("off-hours schedules: not advised, as this cloud's machines cannot be tagged from here "
                     "yet (a schedule lives in a tag)")  # fmt: skip
    elif hourly:
        lookback = settings.off_hours.lookback_hours
        series = {i.id: provider.metrics(i.id, lookback) for i in candidates(instances, settings.off_hours)}
    return FleetSnapshot(provider.now(), instances, offers, long, short, series, notes)
