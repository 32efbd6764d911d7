"""Canary analysis benchmark: does the monitor roll back what it should, and only that?

Runs seeded rollouts (spot migration and rightsizing, each seed a different fleet) three ways:
- `none`: no fault. Every rollback is a false alarm (goal: ≤ 1 % of rollouts);
- `latency`: the changed machines answer 10 % slower from wave 1 on (goal: ≥ 99 % rolled back);
- `errors`: the changed machines fail 1 percentage point more often from wave 1 on (goal: ≥ 99 %).
And counts the changes the application agent vetoes as "too noisy to monitor" (goal: ≤ 5 % of planned).
Prints one JSON object. Deterministic: the same seeds give the same numbers.

`--at` starts every simulator's clock elsewhere (default: the simulator's, a Wednesday at 10:00): a weekend
afternoon or a Monday morning, when the days a service without peers is compared with differ most.

Usage: python bench/bench_canary.py [--seeds 100] [--size 200] [--first-seed 1] [--at 2026-06-21T15:00]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from agents.review import RolloutKind
from graphs.rollout.authority import Caller
from graphs.rollout.events import ProgressEvent, WaveStarted
from graphs.rollout.models import Decision, RolloutReport, RolloutSettings, Scope
from graphs.rollout.workflow import open_rollouts
from mock_cloud import CloudSimulator, SimClock
from mock_cloud.clock import DEFAULT_START
from tools.adapters.simulator import resilient_simulator

FAULTS: dict[str, tuple[float, float] | None] = {"none": None, "latency": (1.10, 0.0), "errors": (1.0, 0.01)}
KINDS: tuple[RolloutKind, ...] = ("spot_migration", "rightsizing")
SETTINGS = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e12, person_below_confidence=0.0)
OPS, APPROVER = Caller("bench", "operator"), Caller("bench-approver", "approver")


async def rollout(
    kind: RolloutKind, seed: int, size: int, fault: tuple[float, float] | None, at: datetime
) -> RolloutReport:
    sim = CloudSimulator(seed, size, clock=SimClock(at))
    cloud = resilient_simulator(sim)

    def progress(event: ProgressEvent) -> None:
        if fault and isinstance(event, WaveStarted) and event.number == 1:
            sim.set_faults({}, degradation=fault)  # every machine changed from here on is worse

    async with open_rollouts("memory", cloud) as rollouts:
        run = await rollouts.start(kind, Scope(), SETTINGS, caller=OPS, on_progress=progress)
        if run.pending is not None:
            run = await rollouts.decide(
                run.workflow_id,
                Decision(decision="approve", by=APPROVER.name),
                APPROVER,
                on_progress=progress,
            )
        assert run.report is not None, run.status
        return run.report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--at", type=datetime.fromisoformat, default=DEFAULT_START, help="Clock (UTC)")
    args = parser.parse_args()
    at = args.at if args.at.tzinfo else args.at.replace(tzinfo=UTC)
    started = time.perf_counter()
    result: dict[str, Any] = {"seeds": args.seeds, "fleet": args.size, "at": at.isoformat(), "by_fault": {}}
    planned = noisy = 0
    for name, fault in FAULTS.items():
        rollouts = rolled_back = 0
        examples: list[str] = []
        for kind in KINDS:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                report = asyncio.run(rollout(kind, seed, args.size, fault, at))
                if not report.approved:
                    continue  # nothing to change in this fleet: no rollout to judge
                rollouts += 1
                rolled_back += report.status == "rolled_back"
                wrong = (report.status == "rolled_back") != (fault is not None)
                if wrong and len(examples) < 5:
                    examples.append(f"{kind} seed {seed}: {report.status} ({report.reason})")
                if fault is None:
                    planned += report.planned
                    noisy += sum("too noisy to monitor" in why for why in report.skipped.values())
        result["by_fault"][name] = {
            "rollouts": rollouts,
            "rolled_back": rolled_back,
            "rolled_back_share": round(rolled_back / rollouts, 4) if rollouts else None,
            "wrong_examples": examples,
        }
    result["too_noisy_vetoes"] = {"planned": planned, "vetoed": noisy,
                                  "share": round(noisy / planned, 4) if planned else None}  # fmt: skip
    result["goals"] = {
        "false_rollbacks_at_most_1pct": result["by_fault"]["none"]["rolled_back_share"] <= 0.01,
        "latency_caught_at_least_99pct": result["by_fault"]["latency"]["rolled_back_share"] >= 0.99,
        "errors_caught_at_least_99pct": result["by_fault"]["errors"]["rolled_back_share"] >= 0.99,
        "too_noisy_at_most_5pct": (result["too_noisy_vetoes"]["share"] or 0.0) <= 0.05,
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
