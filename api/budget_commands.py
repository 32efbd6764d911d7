"""`optiinfra budget …`: budgets on the command line, kept in the same database as the service's."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from api.anomaly_commands import JsonOption, SeedOption, SizeOption
from api.cloud_address import CloudOption
from api.workflow_commands import ByOption, DbOption, parse_tags
from graphs.database_url import DEFAULT_DATABASE_URL
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, PROVIDERS

if TYPE_CHECKING:
    from graphs.budget_store import StoredBudget

budget = typer.Typer(
    help="Budgets: an amount per month, quarter or year for part of the bill, with actual and forecast "
    "thresholds.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)
NameArgument = Annotated[str, typer.Argument(help="The budget's name (letters, digits, . _ -)")]


@budget.command("create")
def create(
    name: NameArgument,
    amount: Annotated[float, typer.Option(min=0.01, help="USD per period")],
    period: Annotated[str, typer.Option(help="month, quarter or year")] = "month",
    provider: Annotated[str | None, typer.Option(help=f"Only one cloud: {', '.join(PROVIDERS)}")] = None,
    region: Annotated[str | None, typer.Option(help="Only one region")] = None,
    application: Annotated[str | None, typer.Option(help="Only one application")] = None,
    team: Annotated[str | None, typer.Option(help="Only one team (tag team=…)")] = None,
    environment: Annotated[str | None, typer.Option(help="Only one environment (tag environment=…)")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable")] = None,
    threshold: Annotated[
        list[float] | None,
        typer.Option(help="% of the amount on actual spend, repeatable (default 50 80 100)"),
    ] = None,
    forecast_threshold: Annotated[
        list[float] | None, typer.Option(help="% of the amount on the forecast, repeatable (default 100)")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            help="On breach, start this rollout in the budget's scope (a person approves it): "
            "spot-migration, rightsizing, idle-stop, volume-retype, volume-cleanup, snapshot-cleanup or "
            "address-release"
        ),
    ] = None,  # fmt: skip
    action_threshold: Annotated[
        str, typer.Option(help="The threshold that starts the action, as basis:percent")
    ] = "actual:100",
    action_max_changes: Annotated[int | None, typer.Option(min=1, help="At most this many changes")] = None,
    by: ByOption = "cli",
    db: DbOption = DEFAULT_DATABASE_URL,
) -> None:
    """Create a budget."""
    from pydantic import ValidationError

    from graphs.budget_store import BudgetStore
    from graphs.database import Database
    from tools.analysis.budgets import DEFAULT_THRESHOLDS, Budget, Threshold

    tags = parse_tags(tag) | {k: v for k, v in (("team", team), ("environment", environment)) if v}
    given = [Threshold(percent=p) for p in threshold or []]
    given += [Threshold(percent=p, basis="forecast") for p in forecast_threshold or []]
    try:
        definition = Budget.model_validate({
            "name": name, "amount": amount, "period": period, "thresholds": given or DEFAULT_THRESHOLDS,
            "scope": {"provider": provider, "region": region, "application": application, "tags": tags},
            "action": {"kind": action.replace("-", "_"), "threshold": action_threshold,
                       "max_changes": action_max_changes} if action else None,
        })  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "budget"
        raise typer.BadParameter(f"{where}: {first['msg']}") from None

    async def write() -> StoredBudget:
        database = await Database.open(db)
        try:
            return await BudgetStore(database).create(definition, by)
        finally:
            await database.close()

    stored = asyncio.run(write())
    out.print(f"Budget {stored.budget.name}: {_describe(stored)}")


@budget.command("list")
def list_command(db: DbOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False) -> None:
    """The budgets kept."""
    stored = asyncio.run(_read(db))
    if as_json:
        print(json.dumps([s.model_dump(mode="json") for s in stored], indent=2))
    elif not stored:
        out.print("No budgets: create one with `optiinfra budget create NAME --amount USD`.")
    for s in [] if as_json else stored:
        out.print(f"{s.budget.name}: {_describe(s)}")


@budget.command("status")
def status_command(
    name: Annotated[str | None, typer.Argument(help="One budget (default: all)")] = None,
    cloud_url: CloudOption = None,
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Each budget's spend so far, forecast for the period's end, and the thresholds crossed (for cron: a
    threshold is new once per period; its alert is sent, and the budget's action started, then)."""
    from api.finops_commands import with_finops

    checked = with_finops(db, cloud_url, seed, size, lambda f: f.check_budgets([name] if name else None))
    if as_json:
        print(json.dumps([c.status.model_dump(mode="json") | c.model_dump(mode="json", exclude={"status"})
                          for c in checked], indent=2))  # fmt: skip
        return
    if not checked:
        out.print("No budgets: create one with `optiinfra budget create NAME --amount USD`.")
    for c in checked:
        out.print(c.status.summary(c.new))
        if c.action_workflow_id:
            out.print(f"  its action started {c.action_workflow_id}, which waits for a person's approval")
        if c.action_error:
            out.print(f"  its action could not start: {c.action_error}")


@budget.command("delete")
def delete(name: NameArgument, db: DbOption = DEFAULT_DATABASE_URL) -> None:
    """Delete a budget (and the record of the thresholds it crossed)."""
    from graphs.budget_store import BudgetStore
    from graphs.database import Database

    async def remove() -> None:
        database = await Database.open(db)
        try:
            await BudgetStore(database).delete(name)
        finally:
            await database.close()

    asyncio.run(remove())
    out.print(f"Budget {name} deleted.")


async def _read(db: str) -> list[StoredBudget]:
    from graphs.budget_store import BudgetStore
    from graphs.database import Database

    database = await Database.open(db)
    try:
        return await BudgetStore(database).budgets()
    finally:
        await database.close()


def _describe(s: StoredBudget) -> str:
    b = s.budget
    scope = b.scope.model_dump(exclude_defaults=True)
    tags = scope.pop("tags", {})
    named = [f"{k} {v}" for k, v in scope.items()] + [f"{k}={v}" for k, v in tags.items()]
    limits = ", ".join(f"{t.percent:g} % {t.basis}" for t in b.thresholds)
    said = f"{b.amount:,.2f} USD a {b.period} for {', '.join(named) or 'the whole bill'}; alerts at {limits}"
    if b.action is not None:
        basis, _, percent = b.action.threshold.partition(":")
        said += (
            f"; at {percent} % {basis} it starts a {b.action.kind.replace('_', ' ')} (a person approves it)"
        )
    return said
