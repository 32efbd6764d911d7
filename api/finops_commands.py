"""`optiinfra finops check`: the FinOps loop once, for cron — budgets, cost anomalies, approval deadlines,
notification retries and off-hours schedules, as the service's scheduler runs them — and the shared way the
budget and anomaly commands run their part of it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from api.anomaly_commands import JsonOption, SeedOption, SizeOption
from api.cloud_address import CloudOption
from api.workflow_commands import DbOption
from graphs.database_url import DEFAULT_DATABASE_URL
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE

if TYPE_CHECKING:
    from graphs.finops import FinOps

T = TypeVar("T")
finops = typer.Typer(help="The FinOps loop once (for cron): budgets, anomalies, approval deadlines, retries.")
out = Console(soft_wrap=True)


def with_finops(
    db: str, cloud_url: str | None, seed: int, size: int, action: Callable[[FinOps], Awaitable[T]]
) -> T:
    """Run `action` with the FinOps checks on the database and cloud named. Links in the notifications they
    send point at $OPTIINFRA_PUBLIC_URL, the service's address, when it is set."""
    from api.clouds import open_cloud, shared_address
    from graphs.finops import FinOps
    from graphs.rollout.workflow import open_rollouts

    cloud = open_cloud(cloud_url, seed, size)

    async def go() -> T:
        async with open_rollouts(db, cloud, public_url=os.environ.get("OPTIINFRA_PUBLIC_URL")) as rollouts:
            return await action(FinOps(rollouts, cloud_url=shared_address(cloud_url)))

    return asyncio.run(go())


@finops.command("check")
def check(
    cloud_url: CloudOption = None,
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    days: Annotated[int, typer.Option(min=1, max=60, help="Report anomalies of the last N whole days")] = 7,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Check budgets and anomalies, watch approval deadlines, retry notifications, keep the off-hours
    schedules (stop or start each machine whose schedule's boundary has passed since the last check): what
    is new is told or done once, however many replicas or cron jobs check."""
    report = with_finops(db, cloud_url, seed, size, lambda f: f.check(days))
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    for b in report.budgets:
        out.print(b.status.summary(b.new))
        if b.action_workflow_id:
            out.print(f"  its action started {b.action_workflow_id}, which waits for a person's approval")
        if b.action_error:
            out.print(f"  its action could not start: {b.action_error}")
    spikes = [a for a in report.anomalies.found if a.kind == "spike"]
    new = set(report.anomalies.opened)
    out.print(f"Anomalies, last {days} day(s): {len(spikes)} cost spike(s), "
              f"{sum(a.key in new for a in spikes)} new.")  # fmt: skip
    for e in report.deadlines:
        said = {
            "approval_deadline_near": f"deadline near ({e.at:%F %H:%M} UTC, {e.role}s)",
            "approval_escalated": f"escalated to the {e.role}s",
            "expired": "expired: nothing changed",
        }
        out.print(f"Approval {e.workflow_id}: {said[e.event]}")  # fmt: skip
    if report.deliveries:
        sent = sum(d.status == "sent" for d in report.deliveries)
        out.print(f"Notifications retried: {len(report.deliveries)}, {sent} sent.")
    run = report.schedules
    if run is None:
        out.print("Off-hours schedules: kept from now on (each machine at its next stop or start).")
    elif run.scheduled or run.problems:
        out.print(f"Off-hours schedules: {run.scheduled} machine(s) scheduled, {len(run.changes)} stopped or "
                  f"started since {run.since:%F %H:%M} UTC.")  # fmt: skip
        for c in run.changes:
            out.print(f"  {c.action} {c.instance_id}" + ("" if c.ok else f": failed, {c.note}"))
        for problem in run.problems:
            out.print(f"  not kept: {problem}")
