"""Routing benchmark: the embedded router's latency per request and throughput in batches.

Prints one JSON object:
- `single`: p50/p99 latency (ms) of routing one request at a time (`route`), and of embedding it alone
  (the encoder, measured in the same run): the ratio is what scoring, cues and parameter rules add;
- `batch`: requests per second routing the whole evaluation set at once (`route_many`), against one at a
  time;
- `accuracy` on the evaluation set (tests/agents/routing_eval.jsonl), and on its held-out part.

Usage: python bench/bench_routing.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from agents.routing import EmbeddedRouter

EVALUATION = Path(__file__).resolve().parent.parent / "tests" / "agents" / "routing_eval.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="Passes over the evaluation set")
    args = parser.parse_args()
    rows = [json.loads(line) for line in EVALUATION.open()]
    texts = [row["text"] for row in rows]

    started = time.perf_counter()
    router = EmbeddedRouter()
    router.warm()
    load_s = time.perf_counter() - started

    routed: list[float] = []
    embedded: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter()
            router.encoder.encode([text])
            t1 = time.perf_counter()
            router.route(text)
            t2 = time.perf_counter()
            embedded.append((t1 - t0) * 1000)
            routed.append((t2 - t1) * 1000)

    batch_rates, single_rates = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        routes = router.route_many(texts)
        batch_rates.append(len(texts) / (time.perf_counter() - t0))
    single_rates = [
        1000 / statistics.mean(routed[k : k + len(texts)]) for k in range(0, len(routed), len(texts))
    ]

    right = [r.route == row["route"] for r, row in zip(routes, rows, strict=True)]
    held = [ok for ok, row in zip(right, rows, strict=True) if row.get("held_out")]
    result: dict[str, Any] = {
        "requests": len(texts),
        "rounds": args.rounds,
        "load_and_embed_examples_s": round(load_s, 3),
        "single": {
            "route_p50_ms": round(percentile(routed, 50), 2),
            "route_p99_ms": round(percentile(routed, 99), 2),
            "embed_only_p50_ms": round(percentile(embedded, 50), 2),
            "embed_only_p99_ms": round(percentile(embedded, 99), 2),
            "route_vs_embed_p50": round(percentile(routed, 50) / percentile(embedded, 50), 3),
        },
        "batch": {
            "batch_requests_per_s": round(statistics.median(batch_rates), 1),
            "one_at_a_time_requests_per_s": round(statistics.median(single_rates), 1),
            "batch_speedup": round(statistics.median(batch_rates) / statistics.median(single_rates), 2),
        },
        "accuracy": round(sum(right) / len(right), 4),
        "held_out_accuracy": round(sum(held) / len(held), 4),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
