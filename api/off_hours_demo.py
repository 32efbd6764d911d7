"""`optiinfra demo off-hours`: the development machines idle while their team is away, the schedules that
stop them (planned, reviewed and approved as a rollout), a simulated week of the service keeping them in
each team's time zone, and the week's bill against the week before — on an in-process simulator."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from api.rollouts import DEMO_OPERATOR, ProgressDisplay, print_report
from graphs.finops import FinOps
from graphs.rollout.authority import Caller
from graphs.rollout.models import Decision, RolloutSettings, Scope
from graphs.rollout.workflow import open_rollouts
from mock_cloud import CloudSimulator
from tools.adapters.simulator import resilient_simulator
from tools.analysis.ledger import read_ledger
from tools.analysis.off_hours import OffHoursSchedule

HOUR = 3600.0
SHOWN = 8


def run_off_hours_demo(seed: int, size: int, console: Console, days: int = 7) -> None:
    sim = CloudSimulator(seed, size)
    cloud = resilient_simulator(sim)
    found = read_ledger(cloud, kinds=["off_hours"]).opportunities
    console.rule("Machines idle while their team is away (the ledger's off-hours opportunities)")
    table = Table()
    for column in ("machine", "application", "schedule advised", "USD/month", "why"):
        table.add_column(column)
    for r in found[:SHOWN]:
        schedule = OffHoursSchedule.parse(r.target)
        table.add_row(r.instance_id, r.application or "-", schedule.short(), f"{r.monthly_savings:,.2f}",
                      r.reasons[0])  # fmt: skip
    console.print(table)
    console.print(
        f"{len(found)} machines, {sum(r.monthly_savings for r in found):,.2f} USD/month between them."
    )
    asyncio.run(_a_week(sim, console, days))


async def _a_week(sim: CloudSimulator, console: Console, days: int) -> None:
    cloud = resilient_simulator(sim)
    display = ProgressDisplay(console)
    async with open_rollouts("memory", cloud) as rollouts:
        console.rule("The schedules, as a rollout: planned, reviewed, approved, tagged in waves")
        run = await rollouts.start("off_hours", Scope(tags={"environment": "development"}),
                                   RolloutSettings(auto_approve=True), caller=Caller("demo", "operator"),
                                   on_progress=display)  # fmt: skip
        if run.pending is not None:
            decision = Decision(decision="approve", by=DEMO_OPERATOR, comment="approved by the scripted demo")
            run = await rollouts.decide(
                run.workflow_id, decision, Caller(DEMO_OPERATOR, "approver"), on_progress=display
            )
        if run.report is None:
            raise RuntimeError(f"the demo's rollout stopped early: {run.status}")
        print_report(run.report, console)
        console.rule(f"{days} days of the service keeping them (the FinOps duty, every hour of cloud time)")
        finops = FinOps(rollouts)
        await finops.keep_schedules()
        for _ in range(days):
            done: Counter[str] = Counter()
            for _ in range(24):
                sim.advance(HOUR)
                kept = await finops.keep_schedules()
                done.update(
                    f"{c.action}{'' if c.ok else ' (failed)'}" for c in (kept.changes if kept else [])
                )
            day = datetime.fromtimestamp(sim.now() - HOUR, UTC)
            said = ", ".join(f"{n} {what}" for what, n in sorted(done.items())) or "nothing to do"
            console.print(f"{day:%a %d %b} (UTC): {said}")
        sim.advance(HOUR)  # the week is read from an hour after the last wave
        await finops.keep_schedules()
        measured = await rollouts.savings(run.workflow_id)
    console.rule("The bill")
    if measured.monthly_savings is None:
        console.print(measured.note)
        return
    console.print(
        f"The {len(run.report.changed)} scheduled machines cost {measured.before_usd:,.2f} USD the week "
        f"before and {measured.after_usd:,.2f} USD the week after: {measured.monthly_savings:,.2f} USD/month "
        f"measured on the bill, against {run.report.monthly_savings:,.2f} estimated."
    )
