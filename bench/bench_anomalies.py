"""Cost anomaly benchmark: are injected cost spikes found, and is little else?

Accuracy: one seeded simulator per seed (each a different fleet); one application gets a `cost_spike` of
1 to 3 days somewhere in the last 30, sized at 10, 20, 50 or 100 % of that application's daily cost (the
sizes take turns over the seeds). The detector reads 90 days of daily costs per service, team,
application, region and cloud from the simulator and reports the anomalies of the last 30 days.
- recall: the spiked application's own series flagged on a spiked day (goal ≥ 90 % for spikes ≥ 20 %);
- false alerts: anomalies on days without a spike, or in series that do not hold the spiked machines,
  per 100 series per 30 days (goal ≤ 1).
Speed: scoring 1,000 series × 90 days, vectorised against a plain per-series loop of the same method
(medians of the same weekday, MAD of the last 28 days' excesses), same data, medians of --repeats.

Usage: python bench/bench_anomalies.py [--seeds 40] [--size 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, timedelta
from typing import Any

import numpy as np

from mock_cloud import CloudSimulator
from mock_cloud.faults import cost_spike
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.anomalies import AnomalySettings, score
from tools.analysis.cost_series import DIMENSIONS, DailyCosts, last_whole_day, midnight_after
from tools.analysis.root_cause import find_anomalies

SIZES = (0.1, 0.2, 0.5, 1.0)
WINDOW_DAYS = 30


def one_seed(seed: int, size: int, spike_share: float) -> dict[str, Any]:
    sim = CloudSimulator(seed, size)
    provider = SimulatorProvider(sim)
    rng = np.random.default_rng([seed, 0xA11])
    yesterday = last_whole_day(provider.now())
    # An application with three months of history and a bill worth watching.
    quarter = sim.costs("application", start=sim.now() - 90 * 86400)
    live = {a.name for a in sim.applications()}
    old = [g.key for g in quarter.groups if g.key in live and g.amount > 90 * 5]
    old = [
        a
        for a in old
        if min(i.launch_time for i in sim.list_instances(application=a)) < sim.now() - 95 * 86400
    ]
    while True:  # an application and days on which it runs (a weekend-scheduled one has nothing to spike)
        target = old[int(rng.integers(len(old)))]
        length = int(rng.integers(1, 4))
        first = yesterday - timedelta(days=int(rng.integers(length - 1, WINDOW_DAYS - 1)))
        start = midnight_after(first - timedelta(days=1)).timestamp()
        end = start + length * 86400
        window = sim.costs("service", start=start, end=end, application=target)
        compute = {g.key: g.amount for g in window.groups}["compute"]
        if compute > 0.25 * window.total:  # not a disk-heavy database whose compute barely shows
            break
    factor = 1 + spike_share * window.total / compute  # the spike adds `spike_share` of those days' cost
    sim.set_faults({}, cost_spikes=[cost_spike(start, end, factor, application=target)])
    every = find_anomalies(provider, days=90, since_days=WINDOW_DAYS)
    found = [a for a in every if a.kind == "spike"]  # new spend (launches) is listed, not alerted
    spiked = {first + timedelta(days=k) for k in range(length)}
    machine = sim.list_instances(application=target)[0]
    holding = {
        ("application", target),
        ("tag:team", machine.tags["team"]),
        ("region", f"{machine.provider}/{machine.region}"),
        ("provider", machine.provider),
        ("service", "compute"),
    }

    def overlaps(a_start: date, a_end: date) -> bool:
        return any(a_start <= d <= a_end for d in spiked)

    caught = any(
        (a.dimension, a.value) == ("application", target) and overlaps(a.start, a.end) for a in found
    )
    false = [a for a in found if (a.dimension, a.value) not in holding or not overlaps(a.start, a.end)]
    return {
        "seed": seed,
        "share": spike_share,
        "caught": caught,
        "series": _series_count(sim),
        "new_spend": sum(a.kind == "new_spend" for a in every),
        "false": [f"{a.dimension}={a.value} {a.start}..{a.end} +{a.impact_pct}%" for a in false],
    }


def _series_count(sim: CloudSimulator) -> int:
    """How many series the detector watched: every value of every dimension over the 90 days."""
    start = sim.now() - 90 * 86400
    return sum(len(sim.costs(d, start=start).groups) for d in DIMENSIONS)


def loop_scores(costs: DailyCosts, s: AnomalySettings) -> np.ndarray:
    """The same method, one series and one day at a time: the plain baseline."""
    out = np.zeros(costs.amounts.shape)
    for row, series in enumerate(costs.amounts):
        excess = np.full(len(series), np.nan)
        for t in range(len(series)):
            past = [series[t - 7 * k] for k in range(1, s.weeks + 1) if t - 7 * k >= 0]
            if past:
                excess[t] = series[t] - float(np.median(past))
        for t in range(len(series)):
            before = excess[max(0, t - s.scale_days) : t]
            before = before[np.isfinite(before)]
            if not before.size or not np.isfinite(excess[t]):
                continue
            mad = float(np.median(np.abs(before - np.median(before))))
            expected = series[t] - excess[t]
            scale = max(1.4826 * mad, s.min_scale_fraction * abs(expected), 0.01)
            out[row, t] = excess[t] / scale
    return out


def speed(repeats: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    days = 90
    level = rng.uniform(5, 500, (1000, 1))
    weekly = 1 - 0.3 * (((np.arange(days) + 3) % 7) >= 5)
    amounts = level * weekly * rng.normal(1, 0.03, (1000, days))
    costs = DailyCosts(
        [date(2026, 3, 1) + timedelta(days=k) for k in range(days)],
        [("application", f"app-{k}") for k in range(1000)],
        amounts,
    )
    settings = AnomalySettings()
    fast, slow = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        vectorised = score(costs, settings).score
        fast.append(time.perf_counter() - t)
        t = time.perf_counter()
        plain = loop_scores(costs, settings)
        slow.append(time.perf_counter() - t)
    agree = bool(np.allclose(vectorised[:, 8:], plain[:, 8:], atol=1e-6))
    f, p = statistics.median(fast), statistics.median(slow)
    return {"series": 1000, "days": days, "vectorised_s": round(f, 4), "per_series_loop_s": round(p, 4),
            "speedup": round(p / f, 1), "same_scores": agree}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    runs = [one_seed(seed, args.size, SIZES[seed % len(SIZES)]) for seed in range(1, args.seeds + 1)]
    recall = {}
    for share in SIZES:
        mine = [r for r in runs if r["share"] == share]
        recall[f"{share:.0%}"] = round(sum(r["caught"] for r in mine) / len(mine), 3) if mine else None
    big = [r for r in runs if r["share"] >= 0.2]
    series_months = sum(r["series"] for r in runs) / 100 * (WINDOW_DAYS / 30)
    false_alerts = sum(len(r["false"]) for r in runs)
    result = {
        "seeds": args.seeds,
        "fleet": args.size,
        "recall_by_spike_size": recall,
        "recall_20pct_and_more": round(sum(r["caught"] for r in big) / len(big), 3),
        "false_alerts": false_alerts,
        "false_alerts_per_100_series_30_days": round(false_alerts / series_months, 3),
        "false_examples": [f for r in runs for f in r["false"]][:8],
        "new_spend_listed": sum(r["new_spend"] for r in runs),
        "speed": speed(args.repeats),
    }
    result["goals"] = {
        "recall_at_least_90pct": result["recall_20pct_and_more"] >= 0.9,
        "false_alerts_at_most_1": result["false_alerts_per_100_series_30_days"] <= 1.0,
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
