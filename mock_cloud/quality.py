"""Application quality (p95 latency, error rate), driven by how loaded the serving machines are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mock_cloud.faults import QualityDegradation
from mock_cloud.fleet import Application
from mock_cloud.load import ApplicationLoad
from mock_cloud.noise import hash_grid, normal_field
from mock_cloud.stable import stable_int
from mock_cloud.workloads import F32, F64

# When no replica is up, clients see their timeouts.
CLIENT_TIMEOUT_MS = 30_000.0
# A target's p95 over one minute moves by a few percent on its own (request mix, GC, neighbours): the
# noise is fixed per instance and minute, so two reads of the same minute agree.
_NOISE_BUCKET_SECONDS = 60
_LATENCY_NOISE = 0.03
_ERROR_NOISE = 0.10
# Past this share of memory in use, paging and GC pauses show up in latency and errors.
_MEMORY_PRESSURE_PCT = 95.0


@dataclass(frozen=True)
class TargetQuality:
    """Each serving machine's p95 latency and error rate, as a load balancer reports them per target:
    rows follow `instance_ids`, NaN where the machine was not serving."""

    application: str
    timestamps: F64
    instance_ids: list[str]
    p95_latency_ms: F32  # (instances, times)
    error_rate: F32


@dataclass(frozen=True)
class QualityReport:
    application: str
    timestamps: F64
    p95_latency_ms: F32
    error_rate: F32
    baseline_latency_ms: float
    baseline_error_rate: float
    serving_replicas: int
    desired_replicas: int


def target_quality(
    app: Application,
    load: ApplicationLoad,
    times: F64,
    seed: int,
    degradation: QualityDegradation | None,
    changed_at: Mapping[str, Sequence[float]],
) -> TargetQuality:
    """Each machine's quality at `times`: queueing delay grows as ρ²/(1-ρ) with its CPU share ρ, memory
    pressure adds pauses, and a degradation fault hits the machines changed after it was armed, from
    their change on."""
    members = [m for m, _ in zip(load.members, load.utilisation, strict=True)]
    if not members:
        empty = np.zeros((0, len(times)), np.float32)
        return TargetQuality(app.name, times, [], empty, empty)
    cpu = np.vstack([u.cpu_pct for u in load.utilisation]).astype(np.float64)
    memory = np.vstack([u.memory_pct for u in load.utilisation])
    serving = ~np.isnan(cpu)
    rho = np.clip(np.nan_to_num(cpu) / 100, 0, 0.98)
    pressure = np.nan_to_num(memory) > _MEMORY_PRESSURE_PCT
    buckets = np.floor(times / _NOISE_BUCKET_SECONDS).astype(np.int64)
    keys = np.asarray([stable_int("quality", app.name, m.id) for m in members], np.uint64)
    hashes = hash_grid(seed, keys, buckets)
    latency = (
        app.base_latency_ms
        * (1 + 0.5 * rho**2 / (1 - rho))
        * np.where(pressure, 1.5, 1.0)
        * (1 + _LATENCY_NOISE * normal_field(hashes, 0))
    )
    errors = (
        app.base_error_rate * (1 + _ERROR_NOISE * normal_field(hashes, 1))
        + 0.5 * np.clip(rho - 0.9, 0, None)
        + np.where(pressure, 0.02, 0.0)
    )
    if degradation is not None:
        for row, member in enumerate(members):
            hit_from = [t for t in changed_at.get(member.id, ()) if t >= degradation.armed_at]
            if hit_from:
                hit = times >= min(hit_from)
                latency[row] = np.where(hit, latency[row] * degradation.latency_factor, latency[row])
                errors[row] = np.where(hit, errors[row] + degradation.error_rate_increase, errors[row])
    return TargetQuality(
        application=app.name,
        timestamps=times,
        instance_ids=[m.id for m in members],
        p95_latency_ms=np.where(serving, latency, np.nan).astype(np.float32),
        error_rate=np.where(serving, np.clip(errors, 0, 1), np.nan).astype(np.float32),
    )


def application_quality(targets: TargetQuality, app: Application, load: ApplicationLoad) -> QualityReport:
    """The service as its clients see it: its p95 is the slowest serving target's (the busiest replica
    shapes the tail), its error rate the serving targets' mean; timeouts when none serves."""
    times = targets.timestamps
    serving = ~np.isnan(targets.p95_latency_ms)
    down = ~serving.any(axis=0) if len(targets.instance_ids) else np.ones(len(times), bool)
    with np.errstate(all="ignore"):  # columns where nothing serves: replaced just below
        latency = np.nanmax(np.where(serving, targets.p95_latency_ms, -np.inf), axis=0, initial=-np.inf)
        errors = np.nansum(np.nan_to_num(targets.error_rate), axis=0) / np.maximum(serving.sum(axis=0), 1)
    latency = np.where(down, CLIENT_TIMEOUT_MS, latency)
    errors = np.where(down, 1.0, errors)
    serving_now = sum(1 for u in load.utilisation if u.running[-1]) if len(times) else 0
    return QualityReport(
        application=app.name,
        timestamps=times,
        p95_latency_ms=latency.astype(np.float32),
        error_rate=errors.astype(np.float32),
        baseline_latency_ms=app.base_latency_ms,
        baseline_error_rate=app.base_error_rate,
        serving_replicas=serving_now,
        desired_replicas=app.replicas,
    )
