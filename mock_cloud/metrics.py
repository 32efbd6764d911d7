"""Metric time series per machine, and fleet-wide utilisation percentiles computed column-wise."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mock_cloud.fleet import Application
from mock_cloud.instances import Instance, State
from mock_cloud.load import LoadModel
from mock_cloud.schedules import SCHEDULE_TAG, running_mask
from mock_cloud.workloads import F32, F64, HOUR

_CHUNK = 4096  # rows per pass: bounds memory at 100k machines (4096 x 336 float32 ≈ 5.5 MB per array)


@dataclass(frozen=True)
class MetricSeries:
    """Points only where the machine was running (as CloudWatch has no datapoints for a stopped one)."""

    instance_id: str
    period: int
    timestamps: F64
    cpu_pct: F32
    memory_pct: F32
    gpu_pct: F32 | None
    network_in_mbps: F32
    network_out_mbps: F32


@dataclass(frozen=True)
class FleetUtilisation:
    """Per machine, columnar: percentiles of hourly CPU and memory, means, and the hours observed.

    `cpu_pct` and `memory_pct` have one row per requested percentile; NaN where a machine has no data.
    """

    instance_ids: list[str]
    percentiles: tuple[float, ...]
    hours: float
    cpu_pct: F32  # (len(percentiles), machines)
    memory_pct: F32
    cpu_mean_pct: F32
    network_mean_mbps: F32
    observed_hours: npt.NDArray[np.int32]

    def cpu(self, percentile: float) -> F32:
        return self.cpu_pct[self.percentiles.index(percentile)]

    def memory(self, percentile: float) -> F32:
        return self.memory_pct[self.percentiles.index(percentile)]


def sample_times(now: float, hours: float, period: int) -> F64:
    """Period starts covering the last `hours`, the current (partial) period last."""
    last = math.floor(now / period) * period
    count = max(1, math.ceil(hours * HOUR / period))
    return last - np.arange(count - 1, -1, -1, dtype=np.float64) * period


def instance_series(
    load: LoadModel,
    app: Application,
    members: list[Instance],
    inst: Instance,
    now: float,
    hours: float,
    period: int,
) -> MetricSeries:
    times = sample_times(now, hours, period)
    utilisation = load.application(app, members, times).utilisation[members.index(inst)]
    up = utilisation.running
    network = utilisation.network_mbps[up]
    return MetricSeries(
        instance_id=inst.id,
        period=period,
        timestamps=times[up],
        cpu_pct=utilisation.cpu_pct[up],
        memory_pct=utilisation.memory_pct[up],
        gpu_pct=utilisation.gpu_pct[up] if utilisation.gpu_pct is not None else None,
        network_in_mbps=(network * 0.45).astype(np.float32),
        network_out_mbps=(network * 0.55).astype(np.float32),
    )


def fleet_utilisation(
    load: LoadModel,
    applications: Mapping[str, Application],
    members: Mapping[str, list[Instance]],
    instances: Sequence[Instance],
    now: float,
    hours: float,
    percentiles: Sequence[float],
) -> FleetUtilisation:
    """Percentiles of hourly CPU and memory, mean CPU and network, for every machine in `instances`.

    Machines of applications that never changed (no resize, stop, replacement or interruption) take a
    vectorised path straight from demand and capacity; the others replay their application's history.
    """
    times = sample_times(now, hours, int(HOUR))
    qs = list(percentiles)
    n = len(instances)
    out = _Columns(
        cpu=np.full((len(qs), n), np.nan, np.float32),
        memory=np.full((len(qs), n), np.nan, np.float32),
        cpu_mean=np.full(n, np.nan, np.float32),
        network_mean=np.full(n, np.nan, np.float32),
        observed=np.zeros(n, np.int32),
    )
    untouched = {name: not any(m.changed for m in ms) for name, ms in members.items()}
    fast = [
        i for i, inst in enumerate(instances) if untouched[inst.application] and inst.state is State.RUNNING
    ]

    def steady_chunk(rows: npt.NDArray[np.intp]) -> None:
        chunk = [instances[r] for r in rows]
        shapes = [load.catalog.get(i.provider, i.instance_type) for i in chunk]
        slots = np.fromiter((i.workload for i in chunk), np.int64, len(chunk))
        vcpus = np.fromiter((t.vcpus for t in shapes), np.float32, len(chunk))
        memory = np.fromiter((t.memory_gb for t in shapes), np.float32, len(chunk))
        launched = np.fromiter((i.launch_time for i in chunk), np.float64, len(chunk))
        cpu, mem, network = load.steady_fleet(slots, vcpus, memory, times)
        alive = times[None, :] >= launched[:, None]
        # A weekend-scheduled application stops as a whole, so its load is shared as ever while it runs.
        scheduled = np.fromiter((SCHEDULE_TAG in i.tags for i in chunk), np.bool_, len(chunk))
        if scheduled.any():
            alive[scheduled] &= running_mask(times)[None, :]
        out.fill(rows, cpu, mem, network, alive, qs)

    chunks = [np.asarray(fast[begin : begin + _CHUNK]) for begin in range(0, len(fast), _CHUNK)]
    # numpy releases the GIL in its kernels, so chunks overlap on several cores; each writes its own rows.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(steady_chunk, chunks))
    fast_rows = set(fast)
    by_app: dict[str, list[int]] = {}
    for i in range(n):
        if i not in fast_rows:
            by_app.setdefault(instances[i].application, []).append(i)
    for name, rows_of_app in by_app.items():
        app_members = members[name]
        app_load = load.application(applications[name], app_members, times)
        position = {m.id: k for k, m in enumerate(app_members)}
        for row in rows_of_app:
            u = app_load.utilisation[position[instances[row].id]]
            out.fill(
                np.asarray([row]),
                u.cpu_pct[None, :],
                u.memory_pct[None, :],
                u.network_mbps[None, :],
                u.running[None, :],
                qs,
            )
    return FleetUtilisation(
        instance_ids=[i.id for i in instances],
        percentiles=tuple(qs),
        hours=hours,
        cpu_pct=out.cpu,
        memory_pct=out.memory,
        cpu_mean_pct=out.cpu_mean,
        network_mean_mbps=out.network_mean,
        observed_hours=out.observed,
    )


@dataclass
class _Columns:
    cpu: F32
    memory: F32
    cpu_mean: F32
    network_mean: F32
    observed: npt.NDArray[np.int32]

    def fill(
        self,
        rows: npt.NDArray[np.intp],
        cpu: F32,
        memory: F32,
        network: F32,
        alive: npt.NDArray[np.bool_],
        qs: list[float],
    ) -> None:
        """Statistics over each row's alive hours, written to `rows`."""
        counts = alive.sum(axis=1).astype(np.int32)
        self.observed[rows] = counts
        whole = counts == cpu.shape[1]
        if whole.any():
            self._write(rows[whole], cpu[whole], memory[whole], network[whole], qs)
        partial = np.flatnonzero(~whole & (counts > 0))
        suffix = alive[partial, -1] & (counts[partial] == alive[partial][:, ::-1].argmin(axis=1))
        # A machine launched inside the window has its valid hours at the end: group those rows by how many
        # and stay vectorised (nanpercentile would fall back to one Python call per row).
        for count in np.unique(counts[partial[suffix]]):
            picked = partial[suffix][counts[partial[suffix]] == count]
            self._write(
                rows[picked], cpu[picked, -count:], memory[picked, -count:], network[picked, -count:], qs
            )
        # Gaps (stopped for a while): rows with the same hours up (a schedule's weekends) go together.
        gapped = partial[~suffix]
        if len(gapped):
            masks, group = np.unique(alive[gapped], axis=0, return_inverse=True)
            for k, keep in enumerate(masks):
                picked = gapped[group.ravel() == k]
                self._write(
                    rows[picked], cpu[picked][:, keep], memory[picked][:, keep], network[picked][:, keep], qs
                )

    def _write(
        self, rows: npt.NDArray[np.intp], cpu: F32, memory: F32, network: F32, qs: list[float]
    ) -> None:
        self.cpu[:, rows] = np.percentile(cpu, qs, axis=1)
        self.memory[:, rows] = np.percentile(memory, qs, axis=1)
        # float64 accumulators: float32 sums of hundreds of points drift with the summation order
        self.cpu_mean[rows] = cpu.mean(axis=1, dtype=np.float64)
        self.network_mean[rows] = network.mean(axis=1, dtype=np.float64)
