"""Application quality before and after a wave, compared the way canary analysis does it.

A metric degrades when two things hold: its median moved past the guard (medians, because one burst in a
window moves a mean by tens of percent and the median hardly at all), and the samples after the wave are
higher than those before beyond chance (a one-sided Mann-Whitney U test). The second condition keeps a
service's ordinary wobble from rolling back a rollout that touches a thousand services.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime, timedelta
from statistics import median

from agents.review import QualityBaseline
from graphs.rollout.models import QualityCheck, RolloutSettings
from tools.models import ApplicationQuality
from tools.provider import CloudProvider

# How far back a service's own swings are measured: three days catch the bursts a single day can miss.
_LOOKBACK = timedelta(days=3)


def _samples(q: ApplicationQuality, start: datetime, end: datetime) -> tuple[list[float], list[float]]:
    """(p95 latencies, error rates) of the samples in (start, end]; timestamps come oldest first."""
    first, last = bisect_right(q.timestamps, start), bisect_right(q.timestamps, end)
    return q.p95_latency_ms[first:last], q.error_rate[first:last]


def _median(values: list[float]) -> float:
    return median(values) if values else float("nan")


def higher_by_chance(after: list[float], before: list[float]) -> float:
    """One-sided p-value that `after` is not stochastically greater than `before` (Mann-Whitney U,
    normal approximation with continuity correction; 1.0 when either side is empty)."""
    n1, n2 = len(after), len(before)
    if not n1 or not n2:
        return 1.0
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in after for b in before)
    spread = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - n1 * n2 / 2 - 0.5) / spread
    return 0.5 * math.erfc(z / math.sqrt(2))


def baseline(cloud: CloudProvider, application: str, now: datetime, window_minutes: float) -> QualityBaseline:
    """The last window's quality, and how far that median moved between consecutive windows lately."""
    q = cloud.application_quality(application, minutes=_LOOKBACK / timedelta(minutes=1) + window_minutes)
    step = timedelta(minutes=window_minutes)
    ends = [now - k * step for k in range(int(_LOOKBACK / step) + 1)]
    latency = [_median(_samples(q, end - step, end)[0]) for end in ends]
    moves = [abs(a / b - 1) * 100 for a, b in zip(latency, latency[1:], strict=False) if b > 0 and a == a]
    last_latency, last_errors = _samples(q, now - step, now)
    return QualityBaseline(
        application=application,
        p95_latency_ms=round(_median(last_latency), 3),
        error_rate=round(_median(last_errors), 6),
        volatility_pct=round(max(moves, default=0.0), 2),
    )


def wave_degraded(checks: list[QualityCheck], settings: RolloutSettings) -> bool:
    """Roll back when more applications degraded than chance explains (any, for a wave of under 100)."""
    return sum(c.degraded for c in checks) > math.floor(settings.tolerated_degraded_share * len(checks))


def compare(
    cloud: CloudProvider,
    application: str,
    changed_from: datetime,
    changed_until: datetime,
    settings: RolloutSettings,
) -> QualityCheck:
    """Quality in the window after a wave against the window before it: degraded past the guard?"""
    step = timedelta(minutes=settings.observe_minutes)
    span = changed_until + step - (changed_from - step)
    q = cloud.application_quality(application, minutes=span / timedelta(minutes=1) + 1)
    latency_before, errors_before = _samples(q, changed_from - step, changed_from)
    latency_after, errors_after = _samples(q, changed_until, changed_until + step)
    lb, la = _median(latency_before), _median(latency_after)
    eb, ea = _median(errors_before), _median(errors_after)
    latency_change = (la / lb - 1) * 100 if lb > 0 else 0.0
    if ea - eb <= settings.error_rate_noise:
        error_change = 0.0
    else:
        error_change = (ea / eb - 1) * 100 if eb > 0 else 100.0
    latency_p = higher_by_chance(latency_after, latency_before)
    error_p = higher_by_chance(errors_after, errors_before)
    significance = settings.significance
    degraded = (latency_change > settings.max_latency_increase_pct and latency_p < significance) or (
        error_change > settings.max_error_rate_increase_pct and error_p < significance
    )
    return QualityCheck(
        application=application,
        latency_before_ms=round(lb, 3),
        latency_after_ms=round(la, 3),
        latency_change_pct=round(latency_change, 2),
        latency_p_value=round(latency_p, 6),
        error_rate_before=round(eb, 6),
        error_rate_after=round(ea, 6),
        error_rate_change_pct=round(error_change, 2),
        error_rate_p_value=round(error_p, 6),
        degraded=degraded,
    )
