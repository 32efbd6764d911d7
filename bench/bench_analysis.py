"""Analysis benchmark: recommendations for 10k and 100k instances, and the HTTP adapter's call rate.

Prints one JSON object; medians of --repeats runs, each next to a baseline measured in the same run:
- scoring: `classify` (rightsizing, vectorised per group of interchangeable types) against the same rules
  written as a plain Python loop over dicts; both must agree on every finding;
- HTTP adapter: calls per second against a local `optiinfra cloud serve`, and the same calls in-process.

Usage: python bench/bench_analysis.py [--sizes 10000,100000] [--repeats 3] [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import numpy as np
from timing import median_seconds

from mock_cloud import CloudSimulator
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.engine import recommend
from tools.analysis.rightsizing import FINDING_NAMES, score
from tools.analysis.settings import RightsizingSettings
from tools.analysis.snapshot import FleetSnapshot, collect, type_group
from tools.analysis.tolerance import ChangeGuard, highest_cpu_within_latency_guard
from tools.provider import CloudProvider


def classify_in_python(
    rows: list[dict[str, Any]],
    groups: dict[str, list[dict[str, Any]]],
    s: RightsizingSettings,
    guard: ChangeGuard,
) -> list[str]:
    """The rightsizing rules over plain dicts, one instance at a time: the baseline."""
    findings = []
    for r in rows:
        if r["observed"] < s.min_observed_hours or math.isnan(r["cpu"]) or math.isnan(r["memory"]):
            findings.append("insufficient-data")
            continue
        latency_cap = float(highest_cpu_within_latency_guard(np.asarray([r["cpu"]]), guard)[0])
        busiest = min(latency_cap, guard.max_cpu_pct)
        shares = (r["cpu"] / 100 * (1 + s.headroom), r["cpu"] / busiest, r["peak"] / guard.max_peak_cpu_pct)
        need_cpu = max(shares) * r["vcpus"]
        need_mem = (
            max(r["memory"] / 100 * (1 + s.headroom), r["memory"] / guard.max_memory_pct) * r["memory_gb"]
        )
        under = r["cpu"] >= s.under_provisioned_pct or r["memory"] >= s.under_provisioned_pct
        offers = groups[r["group"]]
        best = next((o for o in offers if o["vcpus"] >= need_cpu and o["memory_gb"] >= need_mem), None)
        if best is None:
            best = max(offers, key=lambda o: o["vcpus"])
        if under:
            grows = best["vcpus"] > r["vcpus"] or best["memory_gb"] > r["memory_gb"]
            findings.append("under-provisioned" if grows else "optimized")
        elif best["price"] < r["price"] * (1 - s.min_savings_fraction):
            findings.append("over-provisioned")
        else:
            findings.append("optimized")
    return findings


def as_dicts(
    snapshot: FleetSnapshot, s: RightsizingSettings
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    cpu, memory, observed = snapshot.cpu(s.percentile), snapshot.memory(s.percentile), snapshot.observed_hours
    peak = snapshot.cpu(s.peak_percentile)
    rows, groups = [], {}
    for k, (inst, offer) in enumerate(zip(snapshot.instances, snapshot.offer, strict=True)):
        group = f"{inst.provider}|{inst.region}|{type_group(offer)}"
        rows.append(
            {
                "group": group,
                "vcpus": inst.vcpus,
                "memory_gb": inst.memory_gb,
                "price": offer.on_demand_hourly,
                "cpu": float(cpu[k]),
                "peak": float(peak[k]),
                "memory": float(memory[k]),
                "observed": float(observed[k]),
            }
        )
        if group not in groups:
            groups[group] = [
                {"vcpus": o.vcpus, "memory_gb": o.memory_gb, "price": o.on_demand_hourly}
                for o in snapshot.offers[(inst.provider, inst.region)]
                if type_group(o) == type_group(offer)
            ]
    return rows, groups


def bench_recommendations(size: int, repeats: int) -> dict[str, Any]:
    provider = SimulatorProvider(CloudSimulator(seed=1, size=size))
    collect_s = median_seconds(lambda: collect(provider), repeats)
    snapshot = collect(provider)
    recommend_s = median_seconds(lambda: recommend(snapshot), repeats)
    settings, guard = RightsizingSettings(), ChangeGuard()
    vectorised_s = median_seconds(lambda: score(snapshot, settings, guard), repeats)
    rows, groups = as_dicts(snapshot, settings)
    python_s = median_seconds(lambda: classify_in_python(rows, groups, settings, guard), repeats)
    vectorised = FINDING_NAMES[score(snapshot, settings, guard)[0]].tolist()
    agree = classify_in_python(rows, groups, settings, guard) == vectorised
    return {
        "instances": size,
        "running": len(snapshot.instances),
        "recommendations": len(recommend(snapshot)),
        "collect_s": round(collect_s, 3),
        "recommend_all_kinds_s": round(recommend_s, 3),
        "rightsizing_scoring_s": round(vectorised_s, 4),
        "baseline_python_loop_s": round(python_s, 4),
        "scoring_speedup_vs_python": round(python_s / vectorised_s, 1),
        "findings_agree_with_baseline": agree,
    }


def bench_http(calls: int) -> dict[str, Any]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "cloud", "serve", "--port", str(port), "--size", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
        http = SimulatorHttpProvider(url)
        local = SimulatorProvider(CloudSimulator(seed=0, size=1000))
        return {"calls": calls, "http": _rates(http, calls), "in_process": _rates(local, calls)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _rates(provider: CloudProvider, calls: int) -> dict[str, float]:
    ids = [i.id for i in provider.list_instances()][: calls // 2]
    target = ids[0]
    get_s = median_seconds(lambda: [provider.get_instance(target) for _ in range(calls)], 1)
    list_s = median_seconds(lambda: [provider.list_instances() for _ in range(max(calls // 30, 1))], 1)
    start = time.perf_counter()
    for k, iid in enumerate(ids):  # one mutation each: a stop with its own idempotency key
        provider.stop(iid, f"bench-stop-{k}")
    stop_s = time.perf_counter() - start
    return {
        "get_instance_per_s": round(calls / get_s, 1),
        "list_1000_instances_per_s": round(max(calls // 30, 1) / list_s, 1),
        "stop_per_s": round(len(ids) / stop_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    fleets = [bench_recommendations(size, args.repeats) for size in sizes]
    result: dict[str, Any] = {"benchmark": "analysis", "repeats": args.repeats, "recommendations": fleets}
    by_size = {f["instances"]: f["collect_s"] + f["recommend_all_kinds_s"] for f in fleets}
    if 10_000 in by_size and 100_000 in by_size:
        result["growth_100k_over_10k"] = round(by_size[100_000] / by_size[10_000], 2)
    http = bench_http(args.calls)
    http["http_vs_in_process_get"] = round(
        http["http"]["get_instance_per_s"] / http["in_process"]["get_instance_per_s"], 3
    )
    result["http_adapter"] = http
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
