"""Rollouts at the command line: a progress display, and the scripted spot-migration and rightsizing demos."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from agents.review import RolloutKind
from graphs.rollout.authority import Caller
from graphs.rollout.events import (
    AwaitingApproval,
    Decided,
    Failed,
    Monitored,
    Monitoring,
    Planned,
    ProgressEvent,
    Reported,
    Reviewed,
    RollbackStarted,
    RolledBack,
    WaveDone,
    WaveStarted,
)
from graphs.rollout.models import Decision, RolloutReport, RolloutSettings, Scope
from graphs.rollout.workflow import RolloutRun, open_rollouts
from mock_cloud import CloudSimulator
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE
from tools.adapters.simulator import resilient_simulator

Scenario = Literal["normal", "degrade"]
# The degrade scenario's fault: p95 latency ×1.5 and 2 % more errors for applications changed from then on.
DEGRADATION = (1.5, 0.02)
DEMO_OPERATOR = "demo-operator"


class ProgressDisplay:
    """Prints a rollout's progress events (graphs.rollout.events) as they arrive."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, e: ProgressEvent) -> None:
        say = self.console.print
        match e:
            case Planned():
                say(
                    f"[bold]Plan[/]: {e.instances_analyzed} resources analysed, {e.opportunities} "
                    f"opportunities, {e.changes} changes worth {e.monthly_savings:,.2f} USD/month"
                )
            case Reviewed():
                verdict = "[green]approves[/]" if e.approved else "[red]vetoes the plan[/]"
                say(f"  {e.agent:<12} {verdict} (confidence {e.confidence:.2f}), {e.vetoes} vetoed")
            case AwaitingApproval():
                say(
                    f"[yellow]Awaiting approval[/]: {len(e.instance_ids)} changes, "
                    f"{e.monthly_savings:,.2f} USD/month, risk {e.risk} — {'; '.join(e.why)}"
                )
            case Decided():
                say(f"[bold]Decision[/]: {e.decision} by {e.by} ({e.approved} changes)")
            case WaveStarted():
                say(f"[bold]Wave {e.number}[/]: {e.instances} change(s)")
            case WaveDone():
                say(f"  changed {e.changed}, failed {e.failed}")
            case Monitoring():
                say(f"  watching the quality of {e.applications} service(s) until {e.until:%Y-%m-%dT%H:%M} "
                    "(cloud time)")  # fmt: skip
            case Monitored():
                state = "[red]degraded[/]" if e.degraded or e.too_many_failures else "[green]healthy[/]"
                say(f"  quality {state} (worst service: p95 latency {e.worst_latency_change_pct:+.2f}%, "
                    f"error rate {e.worst_error_rate_change_pt:+.2f} pt)")  # fmt: skip
            case RollbackStarted():
                say(f"[red]Rolling back[/] {e.instances} change(s)")
            case RolledBack():
                say(f"  restored {e.reverted}, failed {e.failed}")
            case Reported():
                say(f"[bold]Done[/]: {e.status}, {e.changed} changed, {e.monthly_savings:,.2f} USD/month")
            case Failed():
                say(f"[red]Failed[/]: {e.reason}")


def print_report(report: RolloutReport, console: Console) -> None:
    table = Table(title=f"Rollout {report.workflow_id} ({report.kind}): {report.status}")
    columns = ("wave", "instances", "changed", "failed", "worst p95 latency", "worst error rate", "degraded")
    for column in columns:
        table.add_column(column, justify="right")
    for w in report.waves:
        table.add_row(
            str(w.number), str(w.instances), str(w.changed), str(w.failed),
            f"{w.max_latency_change_pct:+.2f}%", f"{w.max_error_rate_change_pt:+.2f} pt",
            "yes" if w.degraded else "no",
        )  # fmt: skip
    console.print(table)
    approvals = ", ".join(f"{a.agent} {a.confidence:.2f}" for a in report.approvals)
    console.print(
        f"analysed {report.instances_analyzed}, opportunities {report.opportunities}, "
        f"approvals: {approvals}; "
        f"changed {len(report.changed)}, rolled back {len(report.rolled_back)}, failed {len(report.failed)}; "
        f"{_money(report.monthly_savings)} estimated, {_measured(report)}; "
        f"success rate {report.success_rate:.0%} (kept / approved); {report.reason}"
    )


def _measured(report: RolloutReport) -> str:
    if report.measured_monthly_savings is None:
        return report.savings_measurement
    return f"{_money(report.measured_monthly_savings)} measured on the bill"


def _money(monthly: float) -> str:
    return f"saving {monthly:,.2f} USD/month" if monthly >= 0 else f"costing {-monthly:,.2f} USD/month more"


def report_json(report: RolloutReport) -> dict[str, Any]:
    """The report as printed by `--json`: every field, with `approvals` as the agents' verdicts."""
    return report.model_dump(mode="json")


def run_rollout_demo(
    kind: RolloutKind,
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    scenario: Scenario = "normal",
    console: Console | None = None,
    settings: RolloutSettings | None = None,
    simulator: CloudSimulator | None = None,
    scope: Scope | None = None,
) -> RolloutReport:
    """A whole rollout on an in-process simulator (`simulator`, or a new one of `seed` and `size`): plan,
    reviews, a person's approval when the policy asks for one (given here by `demo-operator`), waves,
    monitoring; `degrade` breaks quality from wave 2 on."""
    sim = simulator or CloudSimulator(seed, size)
    # Backing off from a throttled call spends the simulator's time, not the demo's.
    cloud = resilient_simulator(sim)
    display = ProgressDisplay(console) if console else None

    def progress(event: ProgressEvent) -> None:
        if scenario == "degrade" and isinstance(event, WaveStarted) and event.number == 2:
            sim.set_faults({}, degradation=DEGRADATION)
        if display:
            display(event)

    async def run() -> RolloutRun:
        async with open_rollouts("memory", cloud) as rollouts:
            started = await rollouts.start(
                kind, scope or Scope(), settings or RolloutSettings(auto_approve=True),
                caller=Caller("demo", "operator"), on_progress=progress,
            )  # fmt: skip
            if started.pending is None:
                return started
            decision = Decision(decision="approve", by=DEMO_OPERATOR, comment="approved by the scripted demo")
            approver = Caller(DEMO_OPERATOR, "approver")
            return await rollouts.decide(started.workflow_id, decision, approver, on_progress=progress)

    finished = asyncio.run(run())
    if finished.report is None:
        raise RuntimeError(f"the demo's rollout stopped early: {finished.status}")
    return finished.report


def demo_main(kind: RolloutKind, argv: list[str]) -> None:
    """What `demos/<kind>.py [normal|degrade] [SEED] [SIZE]` runs."""
    scenario: Scenario = "degrade" if argv[:1] == ["degrade"] else "normal"
    seed = int(argv[1]) if len(argv) > 1 else DEFAULT_SEED
    size = int(argv[2]) if len(argv) > 2 else DEFAULT_SIZE
    console = Console()
    print_report(run_rollout_demo(kind, seed, size, scenario, console), console)
