"""`optiinfra demo storage`: what an account holds besides machines (volumes, snapshots, addresses, buckets),
what it costs, what the ledger finds, and each storage rollout kind carried out on an in-process simulator —
a deletion approved by a person, with its way back."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from api.rollouts import print_report, run_rollout_demo
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import RolloutSettings, Scope
from mock_cloud import CloudSimulator
from tools.adapters.simulator import resilient_simulator
from tools.analysis.kinds import STORAGE_KINDS
from tools.analysis.ledger import read_ledger
from tools.models import ResourceFilter

# Each storage kind's rollout, in the order a FinOps engineer cleaning up an old account takes them.
ROLLOUTS = ("address_release", "volume_retype", "bucket_tier_move", "volume_cleanup", "snapshot_cleanup")


def run_storage_demo(seed: int, size: int, console: Console) -> None:
    sim = CloudSimulator(seed, size)
    cloud = resilient_simulator(sim)
    volumes, snapshots = cloud.list_volumes(), cloud.list_snapshots()
    addresses, buckets = cloud.list_addresses(), cloud.list_buckets()
    stored, read = sum(b.size_gb for b in buckets) / 1000, sum(b.reads_gb_per_day or 0 for b in buckets)
    available = [v for v in volumes if v.state == "available"]
    idle = [a for a in addresses if a.state == "idle"]
    console.rule("What the account holds besides machines")
    console.print(
        f"{len(volumes)} data volumes ({len(available)} attached to nothing), {len(snapshots)} snapshots "
        f"({sum(not s.volume_exists for s in snapshots)} of volumes that are gone), {len(addresses)} public "
        f"addresses ({len(idle)} idle), {len(buckets)} buckets ({stored:,.0f} TB, {read:,.0f} GB read a day)."
    )
    bill = cloud.costs("service", days=30)
    console.print(
        "Last 30 days on the bill: "
        + ", ".join(f"{g.key} {g.amount:,.2f} USD" for g in bill.groups)
        + f" (of {bill.total:,.2f})."
    )
    ledger = read_ledger(cloud, kinds=STORAGE_KINDS)
    console.rule("What the ledger finds (the same as `optiinfra recommend --kind …` and chat)")
    table = Table()
    for column in ("kind", "resources", "USD/month", "the best one"):
        table.add_column(column)
    for kind in STORAGE_KINDS:
        found = [r for r in ledger.opportunities if r.kind == kind]
        best = f"{found[0].instance_id}: {found[0].reasons[0]}" if found else "-"
        table.add_row(kind, str(len(found)), f"{sum(r.monthly_savings for r in found):,.2f}", best)
    console.print(table)
    for rollout in ROLLOUTS:
        spec = kind_of(rollout)
        console.rule(f"{spec.title}: {spec.summary}")
        if spec.irreversible:
            console.print(
                f"[bold]Irreversible after {spec.cooling_off}[/]: a person approves it (here, the demo)."
            )
        # Staging's volumes: a production gateway saturates every morning, which the canary cannot tell from
        # a regression (its rollout would be rolled back, rightly, as `--scenario degrade` shows for others).
        scope = Scope(tags={"environment": "staging"}) if rollout == "volume_retype" else Scope()
        report = run_rollout_demo(
            rollout, console=console, settings=RolloutSettings(auto_approve=True), simulator=sim, scope=scope
        )
        print_report(report, console)
        if rollout == "volume_cleanup" and report.replacements:
            deleted, final = next(iter(report.replacements.items()))
            again = cloud.restore_volume(final, "demo-undo", tags={"restores": deleted})
            console.print(
                f"The way back: {deleted} made again from its final snapshot {final} as {again.id} "
                f"({again.volume_type}, {again.size_gb} GB)."
            )
    left = cloud.list_volumes(ResourceFilter(state="available"))
    console.rule("After")
    console.print(f"{len(left)} volumes attached to nothing (one of them made again above).")
