"""Application quality from the metrics a service publishes to its cloud (CloudWatch, Azure Monitor, Cloud
Monitoring): the report of the whole service, and each machine's row for canary analysis. The adapters read
the points; this turns them into our models the same way for every cloud."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from tools.errors import ApplicationNotFoundError, InvalidRequestError
from tools.models import ApplicationQuality, Instance, TargetQuality

# {"p95_latency_ms" | "error_rate": {unix start of a period: value}}
Series = dict[str, dict[float, float]]
STEPS = (60, 300, 900, 3600)


def check_minutes(minutes: float, provider: str, step_seconds: int = 60) -> None:
    if not 0 < minutes <= 24 * 60 * 90 or step_seconds not in STEPS:
        raise InvalidRequestError(
            "minutes must be in (0, 129600] and step_seconds 60, 300, 900 or 3600", provider=provider
        )


def quality_report(
    application: str,
    members: Sequence[Instance],
    recent: Series,
    baseline: Series,
    provider: str,
    source: str,
) -> ApplicationQuality:
    """The service's recent points, its baseline (the median of a week's hours) and its replicas; no recent
    point at all is an unknown application as far as quality goes (`source` names where we looked)."""
    times = sorted(recent["p95_latency_ms"])
    if not times:
        raise ApplicationNotFoundError(
            f"no {source} metrics for application {application}", provider=provider
        )
    return ApplicationQuality(
        application=application,
        timestamps=[datetime.fromtimestamp(t, UTC) for t in times],
        p95_latency_ms=[recent["p95_latency_ms"][t] for t in times],
        error_rate=[recent["error_rate"].get(t, 0.0) for t in times],
        baseline_latency_ms=float(np.median(list(baseline["p95_latency_ms"].values()))),
        baseline_error_rate=float(np.median(list(baseline["error_rate"].values()) or [0.0])),
        serving_replicas=sum(m.state == "running" for m in members),
        desired_replicas=int(members[0].tags.get("replicas", len(members))),
    )


def target_table(
    application: str,
    members: Sequence[Instance],
    end: datetime,
    minutes: float,
    step_seconds: int,
    rows: Sequence[Series],
) -> TargetQuality:
    """Each member's points (`rows`, in member order) on the grid of `step_seconds` ending at `end`; a point
    is stamped with its period's start, as the clouds stamp them, and lands in the column that period ends."""
    count = max(1, int(minutes * 60 // step_seconds))
    grid = end.timestamp() - np.arange(count - 1, -1, -1, dtype=np.float64) * step_seconds
    latency = np.full((len(members), count), np.nan, np.float32)
    errors = np.full_like(latency, np.nan)
    for row, series in enumerate(rows):
        for table, name in ((latency, "p95_latency_ms"), (errors, "error_rate")):
            for t, v in series[name].items():
                column = int(np.searchsorted(grid, t + step_seconds - 1e-6))
                if 0 <= column < count:
                    table[row, column] = v
    return TargetQuality(application, step_seconds, grid, [m.id for m in members], latency, errors)
