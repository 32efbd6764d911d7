"""Application quality before and after a wave: medians of the p95 samples over windows of cloud time.

Medians, because one burst inside a window moves a mean by tens of percent and the median hardly at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from agents.review import QualityBaseline
from graphs.rollout.models import QualityCheck, RolloutSettings
from tools.models import ApplicationQuality
from tools.provider import CloudProvider

_BASELINE_DAY = timedelta(days=1)


def _window(q: ApplicationQuality, start: datetime, end: datetime) -> tuple[float, float]:
    """(median p95 latency, median error rate) of the samples in (start, end]."""
    picked = [k for k, t in enumerate(q.timestamps) if start < t <= end]
    if not picked:
        return float("nan"), float("nan")
    return median(q.p95_latency_ms[k] for k in picked), median(q.error_rate[k] for k in picked)


def baseline(cloud: CloudProvider, application: str, now: datetime, window_minutes: float) -> QualityBaseline:
    """The last window's quality, and how far that median moved between consecutive windows over a day."""
    q = cloud.application_quality(
        application, minutes=(_BASELINE_DAY / timedelta(minutes=1)) + window_minutes
    )
    step = timedelta(minutes=window_minutes)
    ends = [now - k * step for k in range(int(_BASELINE_DAY / step) + 1)]
    latency = [_window(q, end - step, end)[0] for end in ends]
    moves = [abs(a / b - 1) * 100 for a, b in zip(latency, latency[1:], strict=False) if b > 0 and a == a]
    last_latency, last_errors = _window(q, now - step, now)
    return QualityBaseline(
        application=application,
        p95_latency_ms=round(last_latency, 3),
        error_rate=round(last_errors, 6),
        volatility_pct=round(max(moves, default=0.0), 2),
    )


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
    latency_before, errors_before = _window(q, changed_from - step, changed_from)
    latency_after, errors_after = _window(q, changed_until, changed_until + step)
    latency_change = (latency_after / latency_before - 1) * 100 if latency_before > 0 else 0.0
    error_delta = errors_after - errors_before
    if error_delta <= settings.error_rate_noise:
        error_change = 0.0
    else:
        error_change = error_delta / errors_before * 100 if errors_before > 0 else 100.0
    degraded = (
        latency_change > settings.max_latency_increase_pct
        or error_change > settings.max_error_rate_increase_pct
    )
    return QualityCheck(
        application=application,
        latency_before_ms=round(latency_before, 3),
        latency_after_ms=round(latency_after, 3),
        latency_change_pct=round(latency_change, 2),
        error_rate_before=round(errors_before, 6),
        error_rate_after=round(errors_after, 6),
        error_rate_change_pct=round(error_change, 2),
        degraded=degraded,
    )
