"""Simulator benchmark: fleet generation + 14-day p95 at 1k/10k/100k machines, and API operations at 100k.

Prints one JSON object. Each timing is the median of --repeats runs, next to a baseline measured in the same
run (these machines are shared and noisy, so ratios mean more than seconds):
- fleet: baseline = numpy's own percentile over a random float32 matrix of the same shape, the floor any
  implementation pays to read the data once;
- list: baseline = a bare Python list comprehension with the same filters over plain dicts.

Usage: python bench/bench_simulator.py [--sizes 1000,10000,100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
from timing import median_seconds as timed

from mock_cloud import CloudSimulator, load_catalog

HOURS = 14 * 24


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """Each run after a garbage collection: one fleet's garbage is not collected on the next one's time."""
    return timed(run, repeats, collect=True)


def bench_fleet(size: int, repeats: int) -> dict[str, float]:
    def generate() -> CloudSimulator:
        return CloudSimulator(seed=1, size=size)

    generate_s = median_seconds(generate, repeats)
    sim = generate()
    p95_s = median_seconds(lambda: sim.fleet_utilisation(hours=HOURS, percentiles=(95,)), repeats)
    data = np.random.default_rng(0).random((size, HOURS), dtype=np.float32)
    floor_s = median_seconds(
        lambda: (np.percentile(data, 95, axis=1), np.percentile(data, 95, axis=1)), repeats
    )
    return {
        "instances": size,
        "generate_s": round(generate_s, 4),
        "p95_cpu_and_memory_s": round(p95_s, 4),
        "total_s": round(generate_s + p95_s, 4),
        "baseline_bare_percentile_s": round(floor_s, 4),
        "p95_vs_bare_percentile": round(p95_s / floor_s, 2),
    }


def bench_operations(size: int, repeats: int) -> dict[str, float]:
    sim = CloudSimulator(seed=1, size=size)
    sample = sim.list_instances()[size // 2]
    filters = {
        "provider": "aws",
        "region": sample.region,
        "state": "running",
        "tags": {"team": sample.tags["team"]},
    }
    list_s = median_seconds(lambda: sim.list_instances(**filters), repeats * 3)  # type: ignore[arg-type]
    rows = [
        {"provider": i.provider, "region": i.region, "state": i.state.value, "tags": i.tags}
        for i in sim.list_instances()
    ]
    bare_s = median_seconds(
        lambda: [
            r for r in rows
            if r["provider"] == "aws" and r["region"] == sample.region and r["state"] == "running"
            and r["tags"]["team"] == sample.tags["team"]  # type: ignore[index]
        ],
        repeats * 3,
    )  # fmt: skip
    get_s = median_seconds(lambda: sim.get_instance(sample.id), repeats * 100)
    running = [i.id for i in sim.list_instances(state="running")[: repeats * 10]]
    stop_times = []
    for iid in running:
        start = time.perf_counter()
        sim.stop(iid, idempotency_key=f"bench-{iid}")
        stop_times.append(time.perf_counter() - start)
    return {
        "instances": size,
        "list_filtered_ms": round(list_s * 1e3, 3),
        "list_baseline_bare_comprehension_ms": round(bare_s * 1e3, 3),
        "list_vs_bare": round(list_s / bare_s, 2),
        "get_instance_ms": round(get_s * 1e3, 4),
        "stop_ms": round(statistics.median(stop_times) * 1e3, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_catalog()  # built once per process; not part of any size's cost
    fleets = [bench_fleet(size, args.repeats) for size in sizes]
    result: dict[str, object] = {"benchmark": "simulator", "repeats": args.repeats, "fleet": fleets}
    by_size = {f["instances"]: f["total_s"] for f in fleets}
    if 10_000 in by_size and 100_000 in by_size:
        result["growth_100k_over_10k"] = round(
            by_size[100_000] / by_size[10_000], 2
        )  # linear: ~10, goal <= 12
    result["operations"] = bench_operations(max(sizes), args.repeats)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
