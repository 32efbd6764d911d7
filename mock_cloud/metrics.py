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
    """Per machine (columnar): a percentile of hourly CPU and memory utilisation, and hours observed."""

    instance_ids: list[str]
    percentile: float
    hours: float
    cpu_pct: F32
    memory_pct: F32
    observed_hours: npt.NDArray[np.int32]


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
    percentile: float,
) -> FleetUtilisation:
    """A percentile of hourly CPU and memory for every machine in `instances`.

    Machines of applications that never changed (no resize, stop, replacement or interruption) take a
    vectorised path straight from demand and capacity; the others replay their application's history.
    """
    times = sample_times(now, hours, int(HOUR))
    n = len(instances)
    cpu_out = np.full(n, np.nan, np.float32)
    mem_out = np.full(n, np.nan, np.float32)
    observed = np.zeros(n, np.int32)
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
        cpu, mem = load.steady_fleet(slots, vcpus, memory, times)
        alive = times[None, :] >= launched[:, None]
        cpu_out[rows], mem_out[rows], observed[rows] = _percentiles(cpu, mem, alive, percentile)

    chunks = [np.asarray(fast[begin : begin + _CHUNK]) for begin in range(0, len(fast), _CHUNK)]
    # numpy releases the GIL in its kernels, so chunks overlap on several cores; each writes its own rows.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(steady_chunk, chunks))
    fast_rows = set(fast)
    slow = [i for i in range(n) if i not in fast_rows]
    by_app: dict[str, list[int]] = {}
    for i in slow:
        by_app.setdefault(instances[i].application, []).append(i)
    for name, rows_of_app in by_app.items():
        app_members = members[name]
        app_load = load.application(applications[name], app_members, times)
        position = {m.id: k for k, m in enumerate(app_members)}
        for row in rows_of_app:
            u = app_load.utilisation[position[instances[row].id]]
            cpu_row, mem_row = u.cpu_pct[None, :], u.memory_pct[None, :]
            c, m, o = _percentiles(cpu_row, mem_row, u.running[None, :], percentile)
            cpu_out[row], mem_out[row], observed[row] = c[0], m[0], o[0]
    return FleetUtilisation([i.id for i in instances], percentile, hours, cpu_out, mem_out, observed)


def _percentiles(
    cpu: F32, memory: F32, alive: npt.NDArray[np.bool_], q: float
) -> tuple[F32, F32, npt.NDArray[np.int32]]:
    counts = alive.sum(axis=1).astype(np.int32)
    cpu_p = np.full(len(cpu), np.nan, np.float32)
    mem_p = np.full(len(cpu), np.nan, np.float32)
    whole = counts == cpu.shape[1]
    if whole.any():
        cpu_p[whole] = np.percentile(cpu[whole], q, axis=1)
        mem_p[whole] = np.percentile(memory[whole], q, axis=1)
    partial = np.flatnonzero(~whole & (counts > 0))
    suffix = alive[partial, -1] & (counts[partial] == alive[partial][:, ::-1].argmin(axis=1))
    # A machine launched inside the window has its valid hours at the end: group those rows by how many
    # and stay vectorised (nanpercentile would fall back to one Python call per row).
    for count in np.unique(counts[partial[suffix]]):
        rows = partial[suffix][counts[partial[suffix]] == count]
        cpu_p[rows] = np.percentile(cpu[rows, -count:], q, axis=1)
        mem_p[rows] = np.percentile(memory[rows, -count:], q, axis=1)
    for row in partial[~suffix]:  # gaps (stopped for a while): rare, one row at a time
        cpu_p[row] = np.percentile(cpu[row, alive[row]], q)
        mem_p[row] = np.percentile(memory[row, alive[row]], q)
    return cpu_p, mem_p, counts
