"""The simulator tour: what the built-in cloud does, shown step by step on a seeded fleet."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from rich.console import Console
from rich.table import Table

from mock_cloud import CloudSimulator
from mock_cloud.errors import SimulatorError
from mock_cloud.faults import FaultRule
from mock_cloud.summary import summarize
from mock_cloud.views import InstanceView
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.engine import recommend, savings_summary
from tools.analysis.snapshot import collect


def run_cloud_tour(seed: int, size: int, console: Console) -> CloudSimulator:
    """Walk through the simulator on a fleet of `size`; returns the simulator in its final state."""
    sim = CloudSimulator(seed, max(size, 50))
    summary = summarize(sim)
    console.rule(f"[bold]A seeded fleet[/] (seed {seed})")
    console.print(
        f"{summary.size} instances in {summary.applications} applications on {summary.by_provider}; "
        f"pricing {summary.by_pricing_model}; run rate {summary.hourly_cost:,.2f} USD/h "
        f"≈ {summary.monthly_cost:,.0f} USD/month."
    )
    console.rule("[bold]Rightsizing by hand[/]: stop → resize → start")
    _rightsize_one(sim, console)
    console.rule("[bold]Spot migration[/]: a replacement is launched, then the original retires")
    _migrate_one(sim, console)
    console.rule("[bold]Faults and idempotency[/]")
    _faults(sim, console)
    console.rule("[bold]Accrued cost[/], last 30 days")
    for group_by in ("provider", "service"):
        report = sim.costs(group_by)
        groups = ", ".join(f"{g.key} {g.amount:,.0f}" for g in report.groups)
        console.print(f"by {group_by}: {groups} (total {report.total:,.0f} USD)")
    console.rule("[bold]Savings the analysis finds[/] (optiinfra recommend)")
    _savings(sim, console)
    return sim


def _savings(sim: CloudSimulator, console: Console) -> None:
    found = recommend(collect(SimulatorProvider(sim)))
    summary = savings_summary(found)
    kinds = ", ".join(f"{kind} {amount:,.0f}" for kind, amount in summary.by_kind.items())
    console.print(
        f"{summary.recommendations} recommendations worth {summary.monthly_savings:,.0f} USD/month ({kinds})."
    )
    for kind in ("rightsize", "idle", "spot", "reserved"):  # the best of each kind
        r = next((r for r in found if r.kind == kind), None)
        if r is not None:
            change = f"{r.current} → {r.target}"
            console.print(
                f"  {kind}: {r.instance_id} {change}, {r.monthly_savings:,.0f} USD/month, {r.risk} risk"
            )
            console.print(f"    {r.reasons[0]}")


def _rightsize_one(sim: CloudSimulator, console: Console) -> None:
    usage = sim.fleet_utilisation()
    by_id = {v.id: v for v in sim.list_instances(state="running", pricing_model="on-demand")}
    candidates = [
        (float(cpu), iid)
        for iid, cpu in zip(usage.instance_ids, usage.cpu(95), strict=True)
        if iid in by_id and by_id[iid].vcpus >= 4 and by_id[iid].gpu_count == 0 and not np.isnan(cpu)
    ]
    if not candidates:
        console.print("No on-demand machine with 4+ vCPUs in this fleet.")
        return
    p95, iid = min(candidates)
    inst = by_id[iid]
    smaller = _half_size(sim, inst)
    if smaller is None:
        console.print(f"{iid}: no smaller type of its family in {inst.region}.")
        return
    before = sim.application_quality(inst.application)
    console.print(
        f"{iid} ({inst.instance_type}, {inst.vcpus} vCPU) runs at p95 CPU {p95:.1f} % over 14 days."
    )
    sim.stop(iid)
    sim.wait_until_stable(iid)
    sim.resize(iid, smaller)
    sim.start(iid)
    after_start = sim.wait_until_stable(iid)
    sim.advance(3 * 3600)
    metrics = sim.metrics(iid, hours=2)
    after = sim.application_quality(inst.application)
    table = Table("", "before", "after")
    table.add_row("type", inst.instance_type, after_start.instance_type)
    table.add_row("USD/h", f"{inst.hourly_price:.4f}", f"{after_start.hourly_price:.4f}")
    table.add_row("CPU %", f"{p95:.1f} (p95)", f"{float(np.max(metrics.cpu_pct)):.1f} (max, last 2 h)")
    table.add_row("p95 latency ms", f"{before.p95_latency_ms[-1]:.0f}", f"{after.p95_latency_ms[-1]:.0f}")
    console.print(table)


def _half_size(sim: CloudSimulator, inst: InstanceView) -> str | None:
    family = sim.catalog.get(inst.provider, inst.instance_type).family
    smaller = [
        t
        for t in sim.catalog.types(inst.provider)
        if t.family == family and t.offered_in(inst.region) and t.vcpus == inst.vcpus // 2
        and t.memory_gb >= sim.catalog.get(inst.provider, inst.instance_type).memory_gb / 2
    ]  # fmt: skip
    return min(smaller, key=lambda t: t.on_demand[inst.region]).name if smaller else None


def _migrate_one(sim: CloudSimulator, console: Console) -> None:
    stateless = sim.list_instances(state="running", pricing_model="on-demand", tags={"stateful": "false"})
    if not stateless:
        console.print("No running stateless on-demand machine to migrate.")
        return
    original = stateless[0]
    migration = sim.migrate(original.id, "spot", idempotency_key=f"tour-migrate-{original.id}")
    replacement = sim.wait_until_stable(migration.replacement.id)
    sim.advance(60)
    retired = sim.get_instance(original.id)
    console.print(
        f"{original.id} ({original.pricing_model}, {original.hourly_price:.4f} USD/h) → {replacement.id} "
        f"(spot, {replacement.hourly_price:.4f} USD/h, tag replaces={replacement.tags['replaces']}); "
        f"original now {retired.state.value}."
    )
    band = sim.catalog.get(replacement.provider, replacement.instance_type).interruption_band
    console.print(f"Its type's spot interruption band is {band.value} per month. Reclaiming it now:")
    noticed = sim.interrupt(replacement.id)
    assert noticed.interruption_notice_at is not None and noticed.interruption_at is not None
    console.print(f"  notice at {_iso(noticed.interruption_notice_at)}, due {_iso(noticed.interruption_at)}")
    sim.advance(180)
    console.print(f"  three minutes later it is {sim.get_instance(replacement.id).state.value}.")


def _faults(sim: CloudSimulator, console: Console) -> None:
    target = sim.list_instances(state="running")[0]
    sim.set_faults({"stop": FaultRule(throttle_rate=0.7)})
    attempts = 0
    while True:
        attempts += 1
        try:
            sim.stop(target.id, idempotency_key="tour-stop")
            break
        except SimulatorError as exc:
            console.print(f"  attempt {attempts}: {exc.code} (retryable={exc.retryable})")
    sim.clear_faults()
    events_before = len(sim.events())
    again = sim.stop(target.id, idempotency_key="tour-stop")
    console.print(
        f"Stop of {target.id} went through on attempt {attempts}; the same idempotency key again returns "
        f"'{again.state.value}' and changes nothing ({len(sim.events()) - events_before} new events)."
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
