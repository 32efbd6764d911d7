"""`optiinfra workflow …`: rollouts against a simulator server (or any cloud URL), kept in a database, so a
run can be stopped, killed and resumed."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

import typer
from rich.console import Console

from api.approval_policy import ApprovalPolicyOption, read_approval_policy
from api.cloud_address import CloudAddress
from api.cloud_address import checked as checked_address
from graphs.database_url import DEFAULT_DATABASE_URL, DatabaseUrl
from graphs.rollout.authority import Caller
from tools.tag_filters import TagFilterError, parse_tag_filters

if TYPE_CHECKING:  # the machinery is imported by the commands that run it: `--help` stays fast
    from graphs.rollout.events import Progress
    from graphs.rollout.models import Decision
    from graphs.rollout.savings import MeasuredSavings
    from graphs.rollout.workflow import RolloutRun, Rollouts

T = TypeVar("T")

workflow = typer.Typer(help="Approval-gated rollouts kept in a database: start, approve, resume, audit.")
out = Console()


def _database(url: str) -> str:
    try:
        DatabaseUrl.parse(url)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return url


DbOption = Annotated[
    str, typer.Option("--db", callback=_database, help="memory, sqlite:///PATH or postgresql://…")
]
CloudOption = Annotated[
    str | None,
    typer.Option(
        "--cloud", callback=checked_address,
        help="The cloud to carry it on against (default: the one it started on)",
    ),
]  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
ByOption = Annotated[str, typer.Option("--by", help="Who you are (recorded as requester or decider)")]
DistinctApproverOption = Annotated[
    bool,
    typer.Option(
        "--distinct-approver", help="The workflows started here may not be approved by their requester"
    ),
]


def shared_cloud(value: str) -> str:
    """A workflow outlives its process: its cloud must be one a resume can reach again (not `sim`)."""
    given = checked_address(value) or ""
    if not CloudAddress.parse(given).shared:
        raise typer.BadParameter(
            "a workflow outlives this process: give a cloud another process reaches too, "
            "e.g. http://127.0.0.1:8900 (optiinfra cloud serve) or aws://us-east-1"
        )
    return given


def parse_tags(given: list[str] | None) -> dict[str, str]:
    """`--tag KEY=VALUE` options as a dict; a malformed one is named back."""
    try:
        return parse_tag_filters(given)
    except TagFilterError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tag") from None


def decision(
    kind: Literal["approve", "reject"], by: str, only: list[str] | None, comment: str | None
) -> Decision:
    from graphs.rollout.models import Decision

    try:
        return Decision(decision=kind, by=by, instance_ids=only, comment=comment)
    except ValueError as exc:  # pydantic's ValidationError: an over-long comment or name
        raise typer.BadParameter(_first_error(exc)) from None


def local_caller(by: str) -> Caller:
    """The command line's user. Whoever can open the database owns it, so they act as an admin; the
    rules of the workflow itself (a distinct approver) still bind them, as they bind every interface."""
    if not by.strip() or len(by) > 128:
        raise typer.BadParameter("a name of 1 to 128 characters", param_hint="--by")
    return Caller(by, "admin")


def _run(db_url: str, cloud_url: str | None, action: Callable[[Rollouts], Awaitable[T]]) -> T:
    import asyncio

    from api.clouds import open_cloud
    from graphs.rollout.workflow import open_rollouts

    async def go() -> T:
        cloud = open_cloud(cloud_url, 0, 0) if cloud_url else None
        async with open_rollouts(db_url, cloud) as rollouts:
            return await action(rollouts)

    return asyncio.run(go())


def _show(run: RolloutRun, as_json: bool) -> None:
    from api.rollouts import print_report
    from graphs.rollout.kinds import kind_of

    if as_json:
        print(json.dumps(run.model_dump(mode="json")))
        return
    if run.report is not None:
        print_report(run.report, out)
    elif run.pending is not None:
        p = run.pending
        out.print(
            f"{run.workflow_id}: awaiting approval of {len(p.instance_ids)} instances "
            f"({kind_of(p.kind).monthly(p.monthly_savings)}, risk {p.risk}) — {'; '.join(p.why)}"
        )
        if run.signoffs:
            out.print(f"  approved by {', '.join(s.by for s in run.signoffs)}; needs {run.waiting_for}")
        elif p.needs.approvers > 1:
            out.print(f"  needs {run.waiting_for} ({'; '.join(p.needs.because)})")
        if p.deadlines:
            levels = ", then ".join(f"the {d.role}s until {d.at:%F %H:%M}" for d in p.deadlines)
            out.print(f"  with {levels} UTC (cloud time); then it expires, nothing changed")
        out.print(f"  optiinfra workflow approve {run.workflow_id} --by NAME [--only ID,ID]   or   reject")
    else:
        out.print(f"{run.workflow_id}: {run.status}, {run.waves_done} wave(s) done")


def _progress(as_json: bool) -> Progress | None:
    from api.rollouts import ProgressDisplay

    return None if as_json else ProgressDisplay(out)


def _ids(value: str | None) -> list[str] | None:
    return [i.strip() for i in value.split(",") if i.strip()] if value else None


async def _cloud_of(rollouts: Rollouts, workflow_id: str, cloud_url: str | None) -> Rollouts:
    """Run on `cloud_url`, or on the cloud the workflow was started against."""
    from api.clouds import open_cloud

    url = cloud_url or (await rollouts.stored(workflow_id)).cloud
    if url is None:
        raise typer.BadParameter("this workflow was started without --cloud; give --cloud ADDRESS")
    rollouts.cloud = open_cloud(url, 0, 0)
    return rollouts


@workflow.command("start")
def start(
    kind: Annotated[
        str,
        typer.Argument(
            help="spot-migration, rightsizing, upsize, idle-stop, volume-retype, volume-cleanup, "
            "snapshot-cleanup or address-release (`workflow kinds`)"
        ),
    ],
    cloud: Annotated[
        str,
        typer.Option(
            "--cloud",
            envvar="OPTIINFRA_CLOUD",
            callback=shared_cloud,
            help="A cloud other processes reach too: http://HOST:PORT (a simulator server), aws://REGION, "
            "azure://SUBSCRIPTION\\[/RESOURCE-GROUP] or gcp://PROJECT\\[/ZONE,…]",
        ),
    ],  # fmt: skip
    db: DbOption = DEFAULT_DATABASE_URL,
    provider: Annotated[str | None, typer.Option(help="aws, gcp or azure")] = None,
    region: Annotated[str | None, typer.Option()] = None,
    application: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable")] = None,
    instances: Annotated[
        str | None, typer.Option("--instances", help="Only these ids, comma-separated")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="No person unless the policy asks")
    ] = False,
    waves: Annotated[str, typer.Option(help="Cumulative shares per wave")] = "0.1,0.5,1.0",
    observe_minutes: Annotated[
        float, typer.Option(help="Quality watched after each wave (cloud minutes)")
    ] = 60.0,
    max_latency_increase: Annotated[float, typer.Option(help="p95 latency rise (%) that rolls back")] = 5.0,
    max_changes: Annotated[int | None, typer.Option(min=1, help="At most this many changes")] = None,
    by: ByOption = "cli",
    distinct_approver: DistinctApproverOption = False,
    approval_policy: ApprovalPolicyOption = None,
    workflow_id: Annotated[
        str | None, typer.Option("--id", help="Choose the workflow id (default: a new random one)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan, review and roll out; stops to wait for a person when the approval policy asks for one."""
    if workflow_id is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", workflow_id):
        raise typer.BadParameter("1 to 40 letters, digits, '_', '.' or '-'", param_hint="--id")
    from graphs.rollout.kinds import UnknownKindError, kind_of
    from graphs.rollout.models import RolloutSettings, Scope

    try:
        spec = kind_of(kind)
    except UnknownKindError as exc:
        raise typer.BadParameter(str(exc), param_hint="KIND") from None

    try:
        scope = Scope(
            provider=provider,
            region=region,
            application=application,
            tags=parse_tags(tag),
            instance_ids=_ids(instances) or [],
        )
        settings = RolloutSettings(
            waves=tuple(float(w) for w in waves.split(",")),
            observe_minutes=observe_minutes,
            max_latency_increase_pct=max_latency_increase,
            auto_approve=auto_approve,
            max_changes=max_changes,
            distinct_approver=distinct_approver,
            **({"approval": read_approval_policy(approval_policy)} if approval_policy else {}),
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise typer.BadParameter(_first_error(exc)) from None
    progress = _progress(as_json)
    caller = local_caller(by)
    run = _run(
        db,
        cloud,
        lambda r: r.start(
            spec.name,
            scope,
            settings,
            caller=caller,
            workflow_id=workflow_id,
            cloud_url=cloud,
            on_progress=progress,
        ),
    )
    _show(run, as_json)


@workflow.command("kinds")
def kinds(as_json: JsonOption = False) -> None:
    """The rollouts this service can carry out: each kind, what it does and how it is undone."""
    from graphs.rollout.kinds import KINDS

    if as_json:
        print(json.dumps([{"kind": k.name, "title": k.title, "recommendation": k.recommendation,
                           "action": k.action, "spends": k.spends, "summary": k.summary}
                          for k in KINDS.values()]))  # fmt: skip
        return
    for k in KINDS.values():
        out.print(f"[bold]{k.cli_name:<15}[/] {k.summary}")


@workflow.command("status")
def status(workflow_id: str, db: DbOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False) -> None:
    """Where a workflow stands: waiting for a person, rolling out, or its report."""
    _show(_run(db, None, lambda r: r.status(workflow_id)), as_json)


@workflow.command("list")
def list_workflows(
    db: DbOption = DEFAULT_DATABASE_URL,
    status: Annotated[str | None, typer.Option(help="Only workflows in this status")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every workflow in the database, oldest first."""
    runs = _run(db, None, lambda r: r.store.runs(status=status))
    if as_json:
        print(json.dumps([r.model_dump(mode="json", exclude={"report"}) for r in runs]))
        return
    for run in runs:
        when = f"created {run.created_at:%F %T} UTC"
        out.print(f"{run.workflow_id}  {run.kind:<15} {run.status:<18} by {run.requested_by}  {when}")


def _decide(workflow_id: str, decision: Decision, db: str, cloud: str | None, as_json: bool) -> None:
    caller = local_caller(decision.by)

    async def go(r: Rollouts) -> RolloutRun:
        await r.check_decision(workflow_id, decision, caller)  # refused before a cloud is needed
        await _cloud_of(r, workflow_id, cloud)
        return await r.decide(workflow_id, decision, caller, on_progress=_progress(as_json))

    _show(_run(db, None, go), as_json)


@workflow.command("approve")
def approve(
    workflow_id: str,
    by: ByOption = "cli",
    only: Annotated[
        str | None, typer.Option("--only", help="Approve only these ids, comma-separated")
    ] = None,
    comment: Annotated[str | None, typer.Option()] = None,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: CloudOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve the pending plan (all of it, or `--only` some instances); the rollout then proceeds."""
    _decide(workflow_id, decision("approve", by, _ids(only), comment), db, cloud, as_json)


@workflow.command("reject")
def reject(
    workflow_id: str,
    by: ByOption = "cli",
    comment: Annotated[str | None, typer.Option()] = None,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: CloudOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject the pending plan: nothing changes, the workflow ends `rejected`."""
    _decide(workflow_id, decision("reject", by, None, comment), db, cloud, as_json)


@workflow.command("cancel")
def cancel(
    workflow_id: str,
    by: ByOption = "cli",
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep what it changed (default: roll it back)")
    ] = False,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: CloudOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop a workflow at its next step boundary, rolling back what it changed (or keeping it, --keep).
    One that waits for a person or has failed is carried there now; one that is running stops by itself."""
    caller = local_caller(by)

    async def go(r: Rollouts) -> RolloutRun:
        run = await r.cancel(workflow_id, caller, rollback=not keep)
        if run.status not in ("deciding", "failed"):
            return run  # its driver sees the request at the next step boundary
        await _cloud_of(r, workflow_id, cloud)
        return await r.resume(workflow_id, on_progress=_progress(as_json))

    _show(_run(db, None, go), as_json)


@workflow.command("resume")
def resume(
    workflow_id: str,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: CloudOption = None,
    as_json: JsonOption = False,
) -> None:
    """Carry on a workflow from its last checkpoint, e.g. after its process was killed."""

    async def go(r: Rollouts) -> RolloutRun:
        await _cloud_of(r, workflow_id, cloud)
        if not as_json:
            out.print(f"{workflow_id}: resuming {await r.position(workflow_id)}")
        return await r.resume(workflow_id, on_progress=_progress(as_json))

    _show(_run(db, None, go), as_json)


@workflow.command("savings")
def savings(
    workflow_id: str,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: CloudOption = None,
    as_json: JsonOption = False,
) -> None:
    """What an ended rollout saves, read from the cloud's bill now (an off-hours schedule's, a week after
    its last wave)."""

    async def go(r: Rollouts) -> MeasuredSavings:
        await _cloud_of(r, workflow_id, cloud)
        return await r.savings(workflow_id)

    measured = _run(db, None, go)
    if as_json:
        print(json.dumps(measured.model_dump(mode="json")))
    elif measured.monthly_savings is None:
        out.print(f"{workflow_id}: {measured.note}")
    else:
        out.print(
            f"{workflow_id}: {measured.monthly_savings:,.2f} USD/month measured on the bill ({measured.note})"
        )


@workflow.command("audit")
def audit(workflow_id: str, db: DbOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False) -> None:
    """Every review, decision (and who made it) and cloud change of a workflow, in order."""
    entries = _run(db, None, lambda r: r.audit(workflow_id))
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in entries]))
        return
    for e in entries:
        subject = f" {e.instance_id}" if e.instance_id else ""
        summary = {k: v for k, v in e.detail.items() if not isinstance(v, (dict, list))}
        out.print(f"{e.at:%F %T} (cloud)  {e.kind:<9} {e.actor:<20}{subject}  {summary}")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)
