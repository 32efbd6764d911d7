"""`optiinfra anomalies …`: cost anomaly detection on the command line (check for cron, list, acknowledge,
resolve, feedback), kept in the same database as the service's."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from api.cloud_address import CloudOption
from api.workflow_commands import ByOption, DbOption
from graphs.database_url import DEFAULT_DATABASE_URL
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, MAX_FLEET_SIZE

if TYPE_CHECKING:
    from graphs.anomaly_store import StoredAnomaly
    from graphs.finops import FinOps

anomalies = typer.Typer(
    help="Cost anomalies: days a service, team, application, region or cloud cost well above its normal.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)  # a line per anomaly, never cut inside a figure

SeedOption = Annotated[int, typer.Option(min=0, help="In-process simulator's seed (without --cloud)")]
SizeOption = Annotated[int, typer.Option(min=0, max=MAX_FLEET_SIZE, help="Its number of instances")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
KeyArgument = Annotated[str, typer.Argument(help="The anomaly's key, as `optiinfra anomalies list` shows it")]


@anomalies.command("check")
def check(
    cloud_url: CloudOption = None,
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    days: Annotated[int, typer.Option(min=1, max=60, help="Report anomalies of the last N whole days")] = 7,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Run the detector now (for cron): read 90 days of daily costs, keep what it finds, say what is new (and
    tell the channels that subscribe to anomalies of each new spike)."""
    from api.finops_commands import with_finops

    async def keep(finops: FinOps) -> tuple[list[str], list[StoredAnomaly]]:
        checked = await finops.check_anomalies(days)
        return checked.opened, [await finops.anomalies.get(a.key) for a in checked.found]

    opened, stored = with_finops(db, cloud_url, seed, size, keep)
    if as_json:
        print(json.dumps({"new": opened, "anomalies": [s.model_dump(mode="json") for s in stored]}, indent=2))
        return
    spikes = [s for s in stored if s.finding.kind == "spike"]
    out.print(
        f"Last {days} whole day(s): {len(spikes)} cost spike(s), {len(opened)} new; "
        f"{len(stored) - len(spikes)} rise(s) from machines launched (new spend)."
    )
    _table(stored, opened)


@anomalies.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Only those running in the last N days")] = None,
    spikes_only: Annotated[bool, typer.Option("--spikes", help="Leave out new spend")] = False,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """The anomalies kept so far, largest impact first."""
    from datetime import UTC, datetime, timedelta

    from graphs.anomaly_store import STATUSES, AnomalyStore
    from graphs.database import Database

    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}", param_hint="--status")
    since = datetime.now(UTC).date() - timedelta(days=days) if days else None

    async def read() -> list[StoredAnomaly]:
        database = await Database.open(db)
        try:
            kind = "spike" if spikes_only else None
            return await AnomalyStore(database).anomalies(status, since, kind)
        finally:
            await database.close()

    stored = asyncio.run(read())
    if as_json:
        print(json.dumps([s.model_dump(mode="json") for s in stored], indent=2))
        return
    if not stored:
        out.print("No anomalies kept: run `optiinfra anomalies check`.")
        return
    _table(stored, [])


def _set(key: str, by: str, db: str, status: str | None, feedback: str | None) -> None:
    from graphs.anomaly_store import FEEDBACK, AnomalyStore
    from graphs.database import Database
    from graphs.rollout.authority import Caller

    if feedback is not None and feedback not in FEEDBACK:
        raise typer.BadParameter(f"one of {', '.join(FEEDBACK)}", param_hint="--feedback")
    Caller(by, "operator")  # a name the rest of the audit would accept

    async def write() -> StoredAnomaly:
        database = await Database.open(db)
        try:
            return await AnomalyStore(database).update(key, by, status, feedback)  # type: ignore[arg-type]
        finally:
            await database.close()

    done = asyncio.run(write())
    said = f", feedback {done.feedback.replace('_', ' ')}" if done.feedback else ""
    out.print(f"{done.key}: {done.status}{said} (by {done.updated_by})")


@anomalies.command("ack")
def acknowledge(key: KeyArgument, by: ByOption = "cli", db: DbOption = DEFAULT_DATABASE_URL) -> None:
    """Acknowledge an anomaly: someone is looking at it."""
    _set(key, by, db, "acknowledged", None)


@anomalies.command("resolve")
def resolve(
    key: KeyArgument,
    by: ByOption = "cli",
    feedback: Annotated[
        str | None, typer.Option(help="What it was: not_an_anomaly, expected or real")
    ] = None,
    db: DbOption = DEFAULT_DATABASE_URL,
) -> None:
    """Resolve an anomaly, optionally saying what it was."""
    _set(key, by, db, "resolved", feedback)


def _table(stored: list[StoredAnomaly], opened: list[str]) -> None:
    """One line per anomaly, its key first (what `ack` and `resolve` take), then the machine that drove it."""
    for s in stored:
        a = s.finding
        until = "" if a.start == a.end else f" to {a.end.isoformat()}"
        new = " [bold](new)[/]" if s.key in opened else ""
        out.print(
            f"{a.key}{until}{new}: {a.kind.replace('_', ' ')}, {a.severity}, {s.status} — "
            f"{a.actual_usd:,.2f} USD against {a.expected_usd:,.2f} expected (+{a.impact_usd:,.2f}, "
            f"+{a.impact_pct:g}%)"
        )
        if a.root_cause.instances:
            top = a.root_cause.instances[0]
            out.print(f"  most of it: {top.key} (+{top.extra_usd:,.2f} USD)")
