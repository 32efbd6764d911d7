"""Application quality (p95 latency, error rate), driven by how loaded the serving machines are."""

from __future__ import annotations

from collections.abc import Sequence
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
_NOISE_BUCKET_SECONDS = 300
# Past this share of memory in use, paging and GC pauses show up in latency and errors.
_MEMORY_PRESSURE_PCT = 95.0


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


def application_quality(
    app: Application,
    load: ApplicationLoad,
    times: F64,
    seed: int,
    degradation: QualityDegradation | None,
    change_times: Sequence[float],
) -> QualityReport:
    """Quality at `times`: queueing delay grows as ρ²/(1-ρ) with the busiest replica's CPU share ρ."""
    cpu = (
        np.vstack([u.cpu_pct for u in load.utilisation])
        if load.utilisation
        else np.full((1, len(times)), np.nan)
    )
    memory = np.vstack([u.memory_pct for u in load.utilisation]) if load.utilisation else cpu
    down = np.all(np.isnan(cpu), axis=0)
    rho = np.clip(np.nan_to_num(np.nanmax(np.where(down, 0, cpu), axis=0)) / 100, 0, 0.98)
    pressure = np.nan_to_num(np.nanmax(np.where(down, 0, memory), axis=0)) > _MEMORY_PRESSURE_PCT
    buckets = np.floor(times / _NOISE_BUCKET_SECONDS).astype(np.int64)
    key = np.asarray([stable_int("quality", app.name)], np.uint64)
    wobble = 1 + 0.03 * normal_field(hash_grid(seed, key, buckets), 0)[0]
    latency = app.base_latency_ms * (1 + 0.5 * rho**2 / (1 - rho)) * np.where(pressure, 1.5, 1.0) * wobble
    errors = app.base_error_rate + 0.5 * np.clip(rho - 0.9, 0, None) + np.where(pressure, 0.02, 0.0)
    if degradation is not None:
        changed = np.asarray([t for t in change_times if t >= degradation.armed_at], np.float64)
        if changed.size:
            hit = times >= changed.min()
            latency = np.where(hit, latency * degradation.latency_factor, latency)
            errors = np.where(hit, errors + degradation.error_rate_increase, errors)
    latency = np.where(down, CLIENT_TIMEOUT_MS, latency)
    errors = np.where(down, 1.0, np.clip(errors, 0, 1))
    serving = sum(1 for u in load.utilisation if u.running[-1]) if len(times) else 0
    return QualityReport(
        application=app.name,
        timestamps=times,
        p95_latency_ms=latency.astype(np.float32),
        error_rate=errors.astype(np.float32),
        baseline_latency_ms=app.base_latency_ms,
        baseline_error_rate=app.base_error_rate,
        serving_replicas=serving,
        desired_replicas=app.replicas,
    )
