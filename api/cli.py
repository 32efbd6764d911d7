"""The `optiinfra` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from typer.core import TyperGroup

# Only what every command needs at start: each command imports its machinery (LangChain, LangGraph, numpy,
# the simulator, database drivers) when it runs, so `optiinfra --help` and the light commands start fast.
from agents.llm import DEFAULT_TIMEOUT_SECONDS
from api.anomaly_commands import anomalies
from api.budget_commands import budget
from api.chat_commands import LlmOption, TimeoutOption, chat_command, chosen_model, route_command
from api.cloud_address import CloudOption
from api.finops_commands import finops
from api.notify_commands import notify
from api.service_commands import apikey, serve_command
from api.workflow_commands import parse_tags, workflow
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, MAX_FLEET_SIZE, PROVIDERS
from tools.analysis.kinds import KINDS, Kind

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext  # the Context TyperGroup is typed with

    from agents.review import RolloutKind

SAVE, SERVE, TRY = "Find and carry out savings", "Run the service", "Try it out"


class CommandsInOrder(TyperGroup):
    """Lists the commands in the order a new user meets them, under the panel of what they are for."""

    ORDER = (
        "recommend",
        "chat",
        "workflow",
        "budget",
        "anomalies",
        "finops",
        "serve",
        "apikey",
        "notify",
        "demo",
        "cloud",
        "route",
    )

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return sorted(super().list_commands(ctx), key=self.ORDER.index)


app = typer.Typer(
    name="optiinfra",
    cls=CommandsInOrder,
    help="Safe cloud cost optimisation with LangGraph agents, and a multi-cloud simulator to try it on.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cloud = typer.Typer(help="The built-in multi-cloud simulator.", no_args_is_help=True)
demo = typer.Typer(help="Scripted demos on an in-process simulator.", no_args_is_help=True)
app.command("chat", rich_help_panel=SAVE)(chat_command)
app.add_typer(workflow, name="workflow", rich_help_panel=SAVE)
app.add_typer(budget, name="budget", rich_help_panel=SAVE)
app.add_typer(anomalies, name="anomalies", rich_help_panel=SAVE)
app.add_typer(finops, name="finops", rich_help_panel=SAVE)
app.add_typer(notify, name="notify", rich_help_panel=SERVE)
app.command("serve", rich_help_panel=SERVE)(serve_command)
app.add_typer(apikey, name="apikey", rich_help_panel=SERVE)
app.add_typer(demo, name="demo", rich_help_panel=TRY)
app.add_typer(cloud, name="cloud", rich_help_panel=TRY)
app.command("route", rich_help_panel=TRY)(route_command)

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
    from rich.table import Table

    from mock_cloud.catalog import load_catalog

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
def cloud_fleet(
    seed: SeedOption = DEFAULT_SEED, size: SizeOption = DEFAULT_SIZE, as_json: JsonOption = False
) -> None:
    """Generate a seeded fleet and summarise it: counts, hourly and monthly cost."""
    from rich.table import Table

    from mock_cloud import CloudSimulator
    from mock_cloud.summary import summarize

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
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    speed: Annotated[
        float, typer.Option(min=0, help="Simulated seconds per wall second (0: manual clock)")
    ] = 0.0,
    certfile: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Serve over TLS with this certificate (PEM), as Azure's SDK requires",
        ),
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="The certificate's private key (PEM)")
    ] = None,
    monitoring_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Also serve Cloud Monitoring's gRPC API on this port (for GCP)"),
    ] = None,
) -> None:
    """Serve the simulator over HTTP (OpenAPI docs at /docs), with Azure Resource Manager's dialect under
    /subscriptions and Compute Engine's under /compute/v1."""
    import uvicorn

    from api.listening import check_can_listen
    from mock_cloud import CloudSimulator, SimClock
    from mock_cloud.server import create_app

    if (certfile is None) != (keyfile is None):
        raise typer.BadParameter("--certfile and --keyfile go together")
    check_can_listen(host, port)
    if monitoring_port is not None:
        check_can_listen("127.0.0.1", monitoring_port)
    sim = CloudSimulator(seed, size, clock=SimClock(speed=speed))
    scheme = "https" if certfile else "http"
    out.print(
        f"Simulator: {size} instances (seed {seed}), clock speed {speed}; {scheme}://{host}:{port}/docs"
    )
    uvicorn.run(
        create_app(sim, monitoring_port), host=host, port=port, log_level="warning",
        # Answers are dated by the simulated clock (the app sets Date); a simulator owes its clients no
        # long goodbye (a TLS client that never closes would hold it 30 s).
        date_header=False, timeout_graceful_shutdown=2,
        ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None,
    )  # fmt: skip


@app.command("recommend", rich_help_panel=SAVE)
def recommend_command(
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    cloud_url: CloudOption = None,
    kind: Annotated[
        list[str] | None, typer.Option(help=f"Repeatable: {', '.join(KINDS)}; default all")
    ] = None,
    provider: Annotated[str | None, typer.Option(help=f"Only one cloud: {', '.join(PROVIDERS)}")] = None,
    region: Annotated[str | None, typer.Option(help="Only one region")] = None,
    application: Annotated[str | None, typer.Option(help="Only one application's instances")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable (e.g. team=ml)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows in the table (JSON prints all)")] = 25,
    as_json: JsonOption = False,
) -> None:
    """Savings opportunities, highest priority first: machines (rightsize, idle, spot, reserved) and what
    else the account holds (unattached volumes, volume types, old snapshots, idle addresses) — the same ledger
    chat, the HTTP API and rollout plans read."""
    from rich.table import Table

    from api.clouds import open_cloud
    from tools.analysis.engine import savings_summary
    from tools.analysis.ledger import read_ledger
    from tools.analysis.off_hours import OffHoursSchedule
    from tools.errors import InvalidRequestError
    from tools.models import InstanceFilter

    kinds = _kinds(kind)
    if provider is not None and provider not in PROVIDERS:
        raise InvalidRequestError(f"unknown provider '{provider}'; expected one of: {', '.join(PROVIDERS)}")
    cloud = open_cloud(cloud_url, seed, size)
    scope = InstanceFilter.model_validate(
        {"provider": provider, "region": region, "application": application, "tags": parse_tags(tag)}
    )
    ledger = read_ledger(cloud, scope, kinds)
    recommendations = ledger.opportunities
    if as_json:
        fields = (
            "instance_id",
            "resource",
            "kind",
            "current",
            "target",
            "monthly_savings",
            "risk",
            "confidence",
            "reasons",
            "alternatives",
        )
        print(
            json.dumps(
                [r.model_dump(include=set(fields)) | {"priority": r.priority} for r in recommendations],
                indent=2,
            )
        )
        return
    summary = savings_summary(recommendations)
    title = f"{summary.recommendations} recommendations, {summary.monthly_savings:,.0f} USD/month"
    table = Table(title=title)
    table.add_column("resource", no_wrap=True)
    table.add_column("kind")
    table.add_column("change", no_wrap=True)
    table.add_column("USD/month", justify="right", no_wrap=True)
    table.add_column("risk")
    table.add_column("conf.", justify="right")
    for r in recommendations[:limit]:
        shown = r.kind == "rightsize" or r.resource != "instance"
        change = f"{r.current} → {r.target}" if shown else f"→ {r.target}"
        if r.kind == "off_hours":  # its target is the schedule's tag: said in words
            change = OffHoursSchedule.parse(r.target).short()
        table.add_row(
            r.instance_id, r.kind, change, f"{r.monthly_savings:,.2f}", r.risk, f"{r.confidence:.2f}"
        )
    out.print(table)
    out.print(
        "By kind (USD/month): " + _counts(summary.by_kind) + ". One action per resource, its best; "
        "--json adds the reasons and the alternatives."
    )
    for note in ledger.notes:
        out.print(f"Not analysed: {note}")
    if under := ledger.under_provisioned:
        extra = ledger.under_provisioned_monthly_cost
        out.print(
            f"{len(under)} under-provisioned instance(s) need a larger type: {extra:,.2f} USD/month more "
            "(a performance finding, not netted into the savings above)."
        )


def _kinds(given: list[str] | None) -> list[Kind]:
    from tools.errors import InvalidRequestError

    if not given:
        return list(KINDS)
    given = [g.strip().replace("-", "_") for g in given]
    unknown = sorted(set(given) - set(KINDS))
    if unknown:
        raise InvalidRequestError(f"unknown kind(s) {', '.join(unknown)}; expected: {', '.join(KINDS)}")
    return [k for k in KINDS if k in given]


@demo.command("cloud")
def demo_cloud(seed: SeedOption = DEFAULT_SEED, size: SizeOption = DEFAULT_SIZE) -> None:
    """A tour of the simulator: fleet, rightsizing by hand, spot migration, faults, interruptions, costs."""
    from api.tour import run_cloud_tour

    run_cloud_tour(seed, size, out)


@demo.command("storage")
def demo_storage(seed: SeedOption = DEFAULT_SEED, size: SizeOption = DEFAULT_SIZE) -> None:
    """Volumes, snapshots and addresses: what they cost, what the ledger finds, and each storage rollout
    kind carried out (deletions approved by a person, with their way back). (In-process simulator.)"""
    from api.storage_demo import run_storage_demo

    run_storage_demo(seed, size, out)


@demo.command("off-hours")
def demo_off_hours(seed: SeedOption = DEFAULT_SEED, size: SizeOption = DEFAULT_SIZE) -> None:
    """Development machines idle at night and at weekends: the schedules advised, approved as a rollout, a
    simulated week of the service keeping them in each team's time zone, and the bill. (In-process.)"""
    from api.off_hours_demo import run_off_hours_demo

    run_off_hours_demo(seed, size, out)


ScenarioOption = Annotated[
    str, typer.Option(help="normal, or degrade: quality degrades from wave 2 on and everything rolls back")
]


def _rollout_demo(kind: RolloutKind, seed: int, size: int, scenario: str, as_json: bool) -> None:
    from api.rollouts import Scenario, print_report, report_json, run_rollout_demo

    if scenario not in ("normal", "degrade"):
        raise typer.BadParameter(f"'{scenario}': expected normal or degrade", param_hint="--scenario")
    console = None if as_json else out
    report = run_rollout_demo(kind, seed, size, cast(Scenario, scenario), console)
    if as_json:
        print(json.dumps(report_json(report)))
    else:
        print_report(report, out)


def _demo_of(kind: str) -> Callable[..., None]:
    def run(
        seed: SeedOption = DEFAULT_SEED,
        size: SizeOption = DEFAULT_SIZE,
        scenario: ScenarioOption = "normal",
        as_json: JsonOption = False,
    ) -> None:
        _rollout_demo(kind, seed, size, scenario, as_json)

    return run


# The rollout kinds' demos, named here rather than read from the registry: `--help` must not load it.
for _name, _kind, _help in (
    (
        "spot-migration",
        "spot_migration",
        "Move spot-eligible instances to spot in reviewed, monitored waves.",
    ),
    ("rightsizing", "rightsizing", "Downsize over-provisioned instances in reviewed, monitored waves."),
    ("upsize", "upsize", "Give under-provisioned instances a larger type; a person approves the cost."),
    ("idle-stop", "idle_stop", "Stop idle instances, keeping their volumes, in reviewed, monitored waves."),
):
    demo.command(_name, help=f"{_help} (In-process simulator.)")(_demo_of(_kind))


@demo.command("chat")
def demo_chat(
    seed: SeedOption = DEFAULT_SEED,
    size: SizeOption = DEFAULT_SIZE,
    llm: LlmOption = None,
    llm_timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """A scripted conversation: questions, a spot migration started from chat, approved and followed up."""
    from api.chat_demo import run_chat_demo

    run_chat_demo(seed, size, out, chosen_model(llm, llm_timeout))


def _counts(counts: dict[str, int] | dict[str, float]) -> str:
    return ", ".join(f"{k}: {v:,.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in counts.items())


def main() -> None:
    """Entry point: a refused operation is one line on stderr and exit status 1, never a traceback."""
    try:
        app()
    except Exception as exc:
        line = refusal(exc)
        if line is None:
            raise  # not a refusal but a bug: its traceback is what the bug report needs
        print(f"optiinfra: {line}", file=sys.stderr)
        sys.exit(1)


def refusal(exc: Exception) -> str | None:
    """The line that says why an operation was refused, or None for an error no user caused."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from agents.llm import LlmSpecError
    from agents.routing.encoder import EncoderUnavailableError
    from api.cloud_address import CloudAddressError
    from api.clouds import CloudUnavailableError
    from api.listening import AddressUnavailableError
    from graphs.anomaly_store import AnomalyNotFoundError
    from graphs.budget_store import BudgetError
    from graphs.database import SchemaError
    from graphs.notification_store import ChannelError
    from graphs.rollout.authority import NotPermittedError
    from graphs.rollout.workflow import RolloutError
    from graphs.supervisor.chat import ChatError
    from mock_cloud.errors import SimulatorError
    from tools.errors import ProviderError

    if isinstance(exc, SimulatorError | ProviderError):
        return f"{exc.code}: {exc.message}"
    said = (RolloutError, NotPermittedError, ChatError, LlmSpecError, EncoderUnavailableError, SchemaError,
            AddressUnavailableError, AnomalyNotFoundError, BudgetError, ChannelError, CloudAddressError,
            CloudUnavailableError)  # fmt: skip
    if isinstance(exc, said):
        return str(exc)
    if isinstance(exc, OSError | DBAPIError | psycopg.Error):  # the database (or a file) cannot be reached
        return f"database unavailable: {str(exc).splitlines()[0]}"
    return None


if __name__ == "__main__":
    main()
