"""Did a wave make its services worse? Canary analysis, as Kayenta and Argo Rollouts do it.

The changed machines are compared with their unchanged peers *in the same minutes*: each changed machine's
p95 latency is divided, minute by minute, by its peers' mean, before the wave (the original machine) and
after it (the machine now serving, a replacement after a spot migration). Whatever moves every replica
alike — the daily ramp, a busy hour, a burst of traffic — cancels out; what the change did remains. As
latency grows faster than load, replicas of slightly different sizes drift apart when load swings, so the
minutes before the wave are taken at the load the service had after it (its peers' latency within 5 %),
from the hours before the wave. A service with no unchanged peer (one replica, or all of them changed at
once) is compared with itself at the same minutes of the previous days of the same kind instead — weekdays
for a weekday, weekend days for a weekend day, since load follows the week as well as the day.

A limit: when a wave's hour is busier than any minute since the peers settled (a rollout in the daily
ramp), the minutes matched are lighter than the ones after, and for replicas of unequal demand the ratio
grows with load, so the comparison leans towards "worse". Extrapolating the ratio along its slope was
tried and fails: minute noise on the peers' latency biases the slope (errors in variables).

A metric degrades when its rise is past the guard beyond chance: a one-sided Mann-Whitney U test of the
samples after against the samples before raised by the guard. A change that truly costs the guard (5 %)
or less rolls back with probability at most `significance`; one that costs twice the guard is caught.
Error rates are compared the same way in absolute terms (percentage points), with the guard taken as a
share of the error rate before, and never below the noise floor.
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timedelta
from statistics import median

import numpy as np

from agents.review import QualityBaseline
from graphs.rollout.models import ChangeResult, QualityCheck, RolloutSettings
from tools.models import TargetQuality
from tools.provider import CloudProvider

STEP_SECONDS = 60  # one sample a minute per machine: an hour's window holds 60 of them
SEASONAL_DAYS = 3  # the previous days (of the same kind) a service without peers is compared with
# How far back the minutes before a wave are looked for at the load the service had after it.
LOAD_MATCH = timedelta(hours=6)
# A machine counts as a peer when it served at least this share of both windows.
_PEER_PRESENCE = 0.8


def higher_by_chance(after: list[float], before: list[float]) -> float:
    """One-sided p-value that `after` is not stochastically greater than `before` (Mann-Whitney U,
    normal approximation with continuity correction; 1.0 when either side is empty)."""
    n1, n2 = len(after), len(before)
    if not n1 or not n2:
        return 1.0
    a, b = np.asarray(after, np.float64)[:, None], np.asarray(before, np.float64)[None, :]
    u = float((a > b).sum() + 0.5 * (a == b).sum())
    spread = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - n1 * n2 / 2 - 0.5) / spread
    return 0.5 * math.erfc(z / math.sqrt(2))


def _weekend(moment: datetime) -> bool:
    return moment.weekday() >= 5


def seasonal_days(moment: datetime, count: int = SEASONAL_DAYS) -> list[int]:
    """How many days back the latest `count` days of the same kind as `moment`'s lie: a Wednesday is
    compared with Tuesday, Monday and the Friday before (a Sunday's quieter load would flatter it), a
    Sunday with Saturday and the weekend before."""
    found: list[int] = []
    back = 1
    while len(found) < count:
        if _weekend(moment - timedelta(days=back)) == _weekend(moment):
            found.append(back)
        back += 1
    return found


def _window(targets: TargetQuality, start: datetime, end: datetime) -> slice:
    """The columns of `targets` in (start, end]."""
    times = targets.timestamps
    return slice(
        int(np.searchsorted(times, start.timestamp(), side="right")),
        int(np.searchsorted(times, end.timestamp(), side="right")),
    )


def _finite(values: np.ndarray) -> list[float]:
    return [float(v) for v in values if np.isfinite(v)]


def _median(values: list[float]) -> float:
    return median(values) if values else float("nan")


def compare(
    cloud: CloudProvider,
    application: str,
    changes: list[ChangeResult],
    changed_from: datetime,
    changed_until: datetime,
    settings: RolloutSettings,
) -> QualityCheck:
    """The changed machines of one service, in the window after the wave, against their peers (or their
    own past): degraded past the guard beyond chance?"""
    observe = timedelta(minutes=settings.observe_minutes)
    before_span = (changed_from - observe, changed_from)
    after_span = (changed_until, changed_until + observe)
    minutes = (after_span[1] - (changed_from - max(observe, LOAD_MATCH))) / timedelta(minutes=1)
    targets = cloud.target_quality(application, minutes, STEP_SECONDS, until=after_span[1])
    before, after = _window(targets, *before_span), _window(targets, *after_span)
    history = _window(targets, changed_from - max(observe, LOAD_MATCH), changed_from)
    known = set(targets.instance_ids)
    pairs = [
        (c.instance_id, c.current_id) for c in changes if c.instance_id in known and c.current_id in known
    ]
    touched = {i for pair in pairs for i in pair}
    peers = [
        row
        for row, iid in enumerate(targets.instance_ids)
        if iid not in touched
        and all(
            np.isfinite(targets.p95_latency_ms[row, span]).mean() >= _PEER_PRESENCE
            for span in (before, after)
            if span.stop > span.start
        )
    ]
    lat, err = targets.p95_latency_ms, targets.error_rate
    raw: dict[str, tuple[list[float], list[float]]] = {"latency": ([], []), "errors": ([], [])}
    # ↑ (before, after) samples of the changed machines themselves, for the report
    for original, current in pairs:
        raw["latency"][0].extend(_finite(lat[targets.row(original), before]))
        raw["latency"][1].extend(_finite(lat[targets.row(current), after]))
        raw["errors"][0].extend(_finite(err[targets.row(original), before]))
        raw["errors"][1].extend(_finite(err[targets.row(current), after]))
    if peers:
        method = "peers"
        peer_latency, peer_errors = _nan_mean(lat[peers], axis=0), _nan_mean(err[peers], axis=0)
        matched = _at_load(
            peer_latency, _since_peers_settled(lat, peers, history), after, before.stop - before.start
        )
        latency_before, latency_after, errors_before, errors_after = [], [], [], []
        for original, current in pairs:
            latency_before += _finite(lat[targets.row(original), matched] / peer_latency[matched])
            latency_after += _finite(lat[targets.row(current), after] / peer_latency[after])
            errors_before += _finite(err[targets.row(original), matched] - peer_errors[matched])
            errors_after += _finite(err[targets.row(current), after] - peer_errors[after])
    else:
        method = "seasonal"
        latency_after, errors_after = list(raw["latency"][1]), list(raw["errors"][1])
        latency_before, errors_before = [], []
        for days in seasonal_days(after_span[1]):
            past = cloud.target_quality(
                application,
                settings.observe_minutes,
                STEP_SECONDS,
                until=after_span[1] - timedelta(days=days),
            )
            for original, _ in pairs:
                if original in past.instance_ids:
                    latency_before += _finite(past.p95_latency_ms[past.row(original)])
                    errors_before += _finite(past.error_rate[past.row(original)])
    guard = settings.max_latency_increase_pct / 100
    latency_p = higher_by_chance(latency_after, [v * (1 + guard) for v in latency_before])
    error_allowance = max(
        settings.max_error_rate_increase_pct / 100 * max(_median(raw["errors"][0]), 0.0),
        settings.error_rate_noise,
    )
    error_p = higher_by_chance(errors_after, [v + error_allowance for v in errors_before])
    lb, la = _median(latency_before), _median(latency_after)
    eb, ea = _median(raw["errors"][0]), _median(raw["errors"][1])
    # Errors grow only past saturation, so peers leaving it can make a machine look worse by comparison:
    # an error regression must also show in the changed machines' own error rate.
    own_errors_rose = ea - eb > error_allowance
    return QualityCheck(
        application=application,
        method=method,
        peers=len(peers),
        latency_before_ms=round(_median(raw["latency"][0]), 3),
        latency_after_ms=round(_median(raw["latency"][1]), 3),
        latency_change_pct=round((la / lb - 1) * 100, 2) if lb > 0 else 0.0,
        latency_p_value=round(latency_p, 6),
        error_rate_before=round(eb, 6),
        error_rate_after=round(ea, 6),
        error_rate_change_pt=round((_median(errors_after) - _median(errors_before)) * 100, 3)
        if errors_after and errors_before
        else 0.0,
        error_rate_p_value=round(error_p, 6),
        degraded=latency_p < settings.significance or (error_p < settings.significance and own_errors_rose),
    )


def _day_to_day_pct(cloud: CloudProvider, application: str, instance_id: str, now: datetime) -> float:
    """How far an hour's median p95 strays from the same hour's median over the last days of the same kind
    as today (the days its canary would be compared with, and today): the 95th percentile of that distance
    over every hour, %. Large for a service whose bursts come at no fixed hour."""
    back, per_hour = seasonal_days(now), 12
    days = max(back) + 1
    past = cloud.target_quality(application, days * 24 * 60, 300, until=now)
    if instance_id not in past.instance_ids:
        return 0.0
    samples = past.p95_latency_ms[past.row(instance_id)].astype(np.float64)
    usable = len(samples) // (24 * per_hour) * 24 * per_hour
    by_day = samples[len(samples) - usable :].reshape(-1, 24, per_hour)  # the 24 h before now - k days, k↓
    kept = [len(by_day) - 1 - k for k in (0, *back) if k < len(by_day)]
    hourly = _nan_median(by_day[sorted(kept)], axis=2)  # (days, 24)
    strays = np.abs(hourly / _nan_median(hourly, axis=0) - 1)
    strays = strays[np.isfinite(strays)]
    return float(np.percentile(strays, 95) * 100) if strays.size else 0.0


def _nan_median(values: np.ndarray, axis: int) -> np.ndarray:
    """The median ignoring NaN; NaN (without numpy's warning) where nothing is left."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=axis)


def _nan_mean(values: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _since_peers_settled(latency: np.ndarray, peers: list[int], history: slice) -> slice:
    """The part of `history` since every peer last served without a break. Before it the peers were other
    machines (a spot replacement not yet launched) or other sizes (a resize stops the machine), so their
    latency says nothing of the load now: a ratio taken then would be to different peers."""
    complete = np.isfinite(latency[peers, history]).all(axis=0)
    gaps = np.flatnonzero(~complete)
    return slice(history.start + (int(gaps[-1]) + 1 if len(gaps) else 0), history.stop)


def _at_load(peer_latency: np.ndarray, history: slice, after: slice, count: int) -> np.ndarray:
    """Columns of `history` where the peers' latency — the service's load, as its clients feel it — was
    within 5 % of its median after the wave; at least `count` of them, the closest ones."""
    load_after = float(_nan_median(peer_latency[after], axis=0)) if after.stop > after.start else np.nan
    columns = np.arange(history.start, history.stop)
    distance = np.abs(peer_latency[columns] / load_after - 1)
    usable = columns[np.isfinite(distance)]
    distance = distance[np.isfinite(distance)]
    close = usable[distance <= 0.05]
    if len(close) >= count:
        return close
    return np.sort(usable[np.argsort(distance, kind="stable")[:count]])


def wave_degraded(checks: list[QualityCheck], settings: RolloutSettings) -> bool:
    """Roll back when more services degraded than chance explains (any, for a wave of under 100)."""
    return sum(c.degraded for c in checks) > math.floor(settings.tolerated_degraded_share * len(checks))


def baseline(cloud: CloudProvider, application: str, now: datetime, window_minutes: float) -> QualityBaseline:
    """The service's quality over the last window, how many machines serve it, and — for a service with
    a single machine, which has no peer to be compared with — how far an hour's p95 strays from the same
    hour of the other days (the noise a seasonal comparison has to see through)."""
    targets = cloud.target_quality(application, window_minutes, STEP_SECONDS, until=now)
    serving = [
        row for row in range(len(targets.instance_ids)) if np.isfinite(targets.p95_latency_ms[row]).any()
    ]
    latency = _finite(targets.p95_latency_ms[serving].ravel()) if serving else []
    errors = _finite(targets.error_rate[serving].ravel()) if serving else []
    day_to_day = 0.0
    if len(serving) == 1:
        day_to_day = _day_to_day_pct(cloud, application, targets.instance_ids[serving[0]], now)
    return QualityBaseline(
        application=application,
        p95_latency_ms=round(_median(latency), 3),
        error_rate=round(_median(errors), 6),
        serving=len(serving),
        day_to_day_pct=round(day_to_day, 2),
    )
