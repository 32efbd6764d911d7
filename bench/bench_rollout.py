"""Rollout benchmark: a spot migration of up to 10,000 candidates with the SQLite checkpointer.

Prints one JSON object:
- per size (candidates in the plan): wall time of the whole workflow and of its waves, bytes the
  checkpointer stored (in total and per planned instance), changes made;
- orchestration overhead per wave: the rollout graph's waves against a bare LangGraph graph of the same
  shape (wave → monitor, looping) that makes the same cloud calls for the same instances with the same
  SQLite checkpointer, but keeps only ids in its state and writes no audit; measured in the same run on
  fresh simulators with the same seed. Medians of --repeats.

Usage: python bench/bench_rollout.py [--sizes 100,1000,10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import operator
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send
from typing_extensions import TypedDict

from agents.review import Change
from graphs.rollout.authority import Caller
from graphs.rollout.events import ProgressEvent
from graphs.rollout.execution import apply_changes, wave_slices
from graphs.rollout.models import ChangeResult, Decision, RolloutSettings, Scope
from graphs.rollout.planning import make_plan
from graphs.rollout.quality import compare
from graphs.rollout.workflow import open_rollouts
from mock_cloud import CloudSimulator
from tools.adapters.simulator import SimulatorProvider

BENCH = Caller("bench", "admin")

SEED = 7
# Fleet size that yields at least `candidates` spot opportunities (about 44 % of a seeded fleet).
FLEET_PER_CANDIDATE = 2.6


def stored_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        checkpoints = conn.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        )
        writes = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes")
        return int(checkpoints.fetchone()[0]) + int(writes.fetchone()[0])


async def rollout(candidates: int, workdir: Path) -> dict[str, Any]:
    sim = CloudSimulator(SEED, int(candidates * FLEET_PER_CANDIDATE))
    path = workdir / f"rollout-{candidates}-{time.monotonic_ns()}.db"
    marks: dict[str, float] = {}

    def mark(event: ProgressEvent) -> None:
        marks[event.event] = marks.get(event.event) or time.perf_counter()
        if event.event == "report":
            marks["end"] = time.perf_counter()

    settings = RolloutSettings(auto_approve=True, max_changes=candidates, person_above_monthly_savings=1e12)
    start = time.perf_counter()
    async with open_rollouts(f"sqlite:///{path}", SimulatorProvider(sim)) as rollouts:
        run = await rollouts.start("spot_migration", settings=settings, caller=BENCH, on_progress=mark)
        if run.pending is not None:  # high-risk changes always ask a person: the benchmark is that person
            run = await rollouts.decide(
                run.workflow_id, Decision(decision="approve", by="bench"), BENCH, on_progress=mark
            )
        plan = await rollouts.plan(run.workflow_id)
    total = time.perf_counter() - start
    report = run.report
    assert plan is not None and report is not None and report.status == "completed", report
    size = stored_bytes(path)
    return {
        "planned": report.planned,
        "approved": len(report.approved),
        "changed": len(report.changed),
        "waves": len(report.waves),
        "seconds": total,
        "wave_seconds": marks["end"] - marks["wave_started"],
        "checkpoint_bytes": size,
        "checkpoint_bytes_per_planned_instance": size / max(report.planned, 1),
        "approved_changes": [c for c in plan.changes if c.instance_id in set(report.approved)],
    }


class BareState(TypedDict, total=False):
    ids: list[str]
    results: Annotated[list[list[str]], operator.add]
    clock: float


def bare_graph(sim: CloudSimulator, changes: list[Change], settings: RolloutSettings) -> StateGraph[Any]:
    """The rollout's shape with nothing but the cloud calls: no models in state, no audit, no claims."""
    cloud = SimulatorProvider(sim)
    by_id = {c.instance_id: c for c in changes}
    slices = wave_slices(
        [c.instance_id for c in changes], settings.waves, {c.instance_id: c.application for c in changes}
    )
    outcomes: dict[int, list[ChangeResult]] = {}

    def plan(state: BareState) -> list[Send]:
        return [Send("review", {"ids": state["ids"]}) for _ in range(3)]

    def review(state: BareState) -> dict[str, Any]:
        return {}

    def wave(state: BareState) -> dict[str, Any]:
        number = len(state.get("results", [])) + 1
        done = apply_changes(cloud, "spot_migration", "bare", number, [by_id[i] for i in slices[number - 1]])
        outcomes[number] = done  # beside the state: the bare graph checkpoints ids only
        return {"results": [[r.current_id for r in done]]}

    def monitor(state: BareState) -> Command[Any]:
        number = len(state["results"])
        started = cloud.now()
        cloud.sleep_until(started + timedelta(minutes=settings.observe_minutes))
        changed: dict[str, list[ChangeResult]] = {}
        for r in outcomes[number]:
            if r.ok and (application := by_id[r.instance_id].application):
                changed.setdefault(application, []).append(r)
        for app, results in sorted(changed.items()):
            compare(cloud, app, results, started, started, settings)
        return Command(goto="wave" if number < len(slices) else END)

    graph = StateGraph(BareState)
    graph.add_node("review", review)
    graph.add_node("gate", lambda s: {})
    graph.add_node("wave", wave)
    graph.add_node("monitor", monitor)
    graph.add_conditional_edges(START, plan, ["review"])
    graph.add_edge("review", "gate")
    graph.add_edge("gate", "wave")
    graph.add_edge("wave", "monitor")
    return graph


async def bare(candidates: int, changes: list[Change], workdir: Path) -> float:
    sim = CloudSimulator(SEED, int(candidates * FLEET_PER_CANDIDATE))
    path = workdir / f"bare-{candidates}-{time.monotonic_ns()}.db"
    settings = RolloutSettings(max_changes=candidates)
    # Plan as the rollout did, untimed: both simulators then hold the same warm state when the waves start.
    make_plan(SimulatorProvider(sim), "spot_migration", Scope(), settings)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        graph = bare_graph(sim, changes, settings).compile(checkpointer=saver)
        start = time.perf_counter()
        await graph.ainvoke(
            {"ids": [c.instance_id for c in changes]},
            {"configurable": {"thread_id": "bare"}, "recursion_limit": 100},
        )
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    out: dict[str, Any] = {"seed": SEED, "repeats": args.repeats, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for candidates in sizes:
            runs, bares = [], []
            for _ in range(args.repeats):
                run = await rollout(candidates, workdir)
                runs.append(run)
                bares.append(await bare(candidates, run["approved_changes"], workdir))
            first = runs[0]
            wave_seconds = statistics.median(r["wave_seconds"] for r in runs)
            bare_seconds = statistics.median(bares)
            out["sizes"][str(candidates)] = {
                "fleet": int(candidates * FLEET_PER_CANDIDATE),
                "planned": first["planned"],
                "approved": first["approved"],
                "changed": first["changed"],
                "waves": first["waves"],
                "workflow_seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
                "waves_seconds_median": round(wave_seconds, 3),
                "bare_graph_waves_seconds_median": round(bare_seconds, 3),
                "overhead_ratio_vs_bare_graph": round(wave_seconds / bare_seconds, 2),
                "checkpoint_bytes": first["checkpoint_bytes"],
                "checkpoint_bytes_per_planned_instance": round(
                    first["checkpoint_bytes_per_planned_instance"], 1
                ),
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
