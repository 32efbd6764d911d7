"""Service health on an untouched fleet: how many services does the health check flag, hour by hour?

Nothing is changed and no fault is set, so a service flagged *degraded* (worse than its own normal at
these hours) is a false alarm (goal: ≤ 3 % of services at any hour). *Saturated* services — those whose
queueing says their machines run near full CPU — are counted apart: that is their load, not a fault.
Then a degradation fault (+50 % latency) is set on one changed machine per service for a few services, to
check that those are flagged. Prints one JSON object; deterministic for a seed.

Usage: python bench/bench_health.py [--seed 7] [--size 600] [--hours 24]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from langchain_core.messages import ToolMessage

from mock_cloud import CloudSimulator
from tools.adapters.simulator import SimulatorProvider
from tools.toolkit import build_toolkit


def health(toolkit: Any, application: str) -> Any:
    tool = next(t for t in toolkit.all() if t.name == "get_application_quality")
    message = tool.invoke(
        {"type": "tool_call", "name": tool.name, "args": {"application": application}, "id": "bench"}
    )
    assert isinstance(message, ToolMessage) and message.status != "error", message.content
    return message.artifact


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    started = time.perf_counter()
    sim = CloudSimulator(args.seed, args.size)
    toolkit = build_toolkit(SimulatorProvider(sim))
    names = [a.name for a in sim.applications()]
    degraded_share, saturated_share, worst_examples = [], [], []
    for _ in range(args.hours):
        verdicts = [health(toolkit, name) for name in names]
        degraded = [v for v in verdicts if v.degraded]
        degraded_share.append(len(degraded) / len(verdicts))
        saturated_share.append(sum(v.saturated for v in verdicts) / len(verdicts))
        worst_examples += [f"{v.application}: {'; '.join(v.reasons)}" for v in degraded][:1]
        sim.advance(3600)
    # A real regression: half the services get one machine replaced under a +50 % latency fault.
    sim.set_faults({}, degradation=(1.5, 0.0))
    hit = []
    for app in sim.applications()[::2]:
        running = [i for i in app.instance_ids if sim.get_instance(i).state == "running"]
        if running and sim.get_instance(running[0]).pricing_model == "on-demand":
            sim.migrate(running[0], "spot")
            hit.append(app.name)
    sim.advance(3600)
    caught = [health(toolkit, name).degraded for name in hit]
    result = {
        "services": len(names),
        "hours": args.hours,
        "degraded_share": {"median": round(statistics.median(degraded_share), 4),
                           "max": round(max(degraded_share), 4)},
        "saturated_share": {"median": round(statistics.median(saturated_share), 4),
                            "max": round(max(saturated_share), 4)},
        "false_alarm_examples": worst_examples[:5],
        "one_machine_slower": {"services": len(hit), "flagged": sum(caught)},
        "goal_degraded_at_most_3pct_every_hour": max(degraded_share) <= 0.03,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
