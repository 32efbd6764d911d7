"""The `optiinfra` command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.tour import run_cloud_tour
from mock_cloud import CloudSimulator, SimClock, SimulatorError, load_catalog
from mock_cloud.catalog import PROVIDERS
from mock_cloud.schemas import MAX_FLEET_SIZE
from mock_cloud.summary import summarize

app = typer.Typer(
    name="optiinfra",
    help="Safe cloud cost optimisation with LangGraph agents, and a multi-cloud simulator to try it on.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cloud = typer.Typer(help="The built-in multi-cloud simulator.", no_args_is_help=True)
demo = typer.Typer(help="Scripted demos on an in-process simulator.", no_args_is_help=True)
app.add_typer(cloud, name="cloud")
app.add_typer(demo, name="demo")

out = Console()

ProviderOption = Annotated[str, typer.Option(help=f"One of: {', '.join(PROVIDERS)}")]
SeedOption = Annotated[int, typer.Option(min=0, help="Same seed, same fleet and metrics")]
SizeOption = Annotated[int, typer.Option(min=0, max=MAX_FLEET_SIZE, help="Number of instances")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@cloud.command("catalog")
def cloud_catalog(
    provider: ProviderOption,
    region: Annotated[str | None, typer.Option(help="Defaults to the provider's main region")] = None,
    gpu: Annotated[
        bool | None, typer.Option("--gpu/--no-gpu", help="Only GPU types, or only non-GPU")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Instance types with hourly on-demand, spot and reserved prices (USD), cheapest first."""
    offerings = [o.to_dict() for o in load_catalog().offerings(provider, region, gpu)]
    if as_json:
        print(json.dumps(offerings, indent=2))
        return
    table = Table(
        title=f"{provider} {offerings[0]['region'] if offerings else region} — {len(offerings)} types"
    )
    for column in (
        "name",
        "vcpus",
        "memory_gb",
        "gpu_count",
        "on_demand_hourly",
        "spot_hourly",
        "reserved_hourly",
    ):
        table.add_column(column, justify="left" if column == "name" else "right")
    for o in offerings:
        table.add_row(*(str(o[c]) for c in ("name", "vcpus", "memory_gb", "gpu_count", "on_demand_hourly",
                                             "spot_hourly", "reserved_hourly")))  # fmt: skip
    out.print(table)


@cloud.command("fleet")
def cloud_fleet(seed: SeedOption = 0, size: SizeOption = 100, as_json: JsonOption = False) -> None:
    """Generate a seeded fleet and summarise it: counts, hourly and monthly cost."""
    summary = summarize(CloudSimulator(seed, size))
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
        return
    table = Table(title=f"Fleet seed={seed}: {size} instances in {summary.applications} applications")
    table.add_column("dimension")
    table.add_column("counts")
    table.add_row("provider", _counts(summary.by_provider))
    table.add_row("state", _counts(summary.by_state))
    table.add_row("pricing model", _counts(summary.by_pricing_model))
    table.add_row("cost by provider (USD/h)", _counts(summary.hourly_cost_by_provider))
    out.print(table)
    out.print(f"Run rate: [bold]{summary.hourly_cost:,.2f} USD/h[/] ≈ {summary.monthly_cost:,.0f} USD/month")


@cloud.command("serve")
def cloud_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8900,
    seed: SeedOption = 0,
    size: SizeOption = 100,
    speed: Annotated[
        float, typer.Option(min=0, help="Simulated seconds per wall second (0: manual clock)")
    ] = 0.0,
) -> None:
    """Serve the simulator over HTTP (OpenAPI docs at /docs)."""
    import uvicorn

    from mock_cloud.server import create_app

    sim = CloudSimulator(seed, size, clock=SimClock(speed=speed))
    out.print(f"Simulator: {size} instances (seed {seed}), clock speed {speed}; http://{host}:{port}/docs")
    uvicorn.run(create_app(sim), host=host, port=port, log_level="warning")


@demo.command("cloud")
def demo_cloud(seed: SeedOption = 7, size: SizeOption = 300) -> None:
    """A tour of the simulator: fleet, rightsizing by hand, spot migration, faults, interruptions, costs."""
    run_cloud_tour(seed, size, out)


def _counts(counts: dict[str, int] | dict[str, float]) -> str:
    return ", ".join(f"{k}: {v:,.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in counts.items())


def main() -> None:
    """Entry point: a refused operation is one line on stderr and exit status 1, never a traceback."""
    try:
        app()
    except SimulatorError as exc:
        print(f"optiinfra: {exc.code}: {exc.message}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
