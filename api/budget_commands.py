"""`optiinfra budget …`: budgets on the command line, kept in the same database as the service's."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from api.anomaly_commands import CloudUrlOption, JsonOption, SeedOption, SizeOption
from api.workflow_commands import ByOption, DbOption, parse_tags
from graphs.database_url import DEFAULT_DATABASE_URL
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, PROVIDERS

if TYPE_CHECKING:
    from graphs.budget_store import StoredBudget
    from tools.analysis.budgets import BudgetStatus

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
    cloud_url: CloudUrlOption = None,
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Each budget's spend so far, forecast for the period's end, and the thresholds crossed (for cron: a
    threshold is new once per period)."""
    from api.clouds import cloud_for
    from graphs.budget_store import BudgetStore
    from graphs.database import Database
    from tools.analysis.budgets import status

    cloud = cloud_for(cloud_url, seed, size)

    async def check() -> list[tuple[BudgetStatus, list[str]]]:
        database = await Database.open(db)
        try:
            store = BudgetStore(database)
            chosen = [await store.get(name)] if name else await store.budgets()
            found = []
            for s in chosen:
                now = await asyncio.to_thread(status, cloud, s.budget)
                found.append((now, await store.record(now)))
            return found
        finally:
            await database.close()

    checked = asyncio.run(check())
    if as_json:
        print(json.dumps([s.model_dump(mode="json") | {"new": new} for s, new in checked], indent=2))
        return
    if not checked:
        out.print("No budgets: create one with `optiinfra budget create NAME --amount USD`.")
    for s, new in checked:
        out.print(s.summary(new))


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
    return f"{b.amount:,.2f} USD a {b.period} for {', '.join(named) or 'the whole bill'}; alerts at {limits}"
