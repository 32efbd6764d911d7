"""`optiinfra serve` and `optiinfra apikey …`: the HTTP service and who may use it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from agents.llm import LlmSpec, LlmSpecError
from api.approval_policy import ApprovalPolicyOption, read_approval_policy
from api.cloud_address import HELP_FORMS, CloudAddress
from api.cloud_address import checked as checked_address
from api.workflow_commands import DbOption
from graphs.database_url import DEFAULT_DATABASE_URL
from graphs.rollout.authority import ROLES
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, MAX_FLEET_SIZE

apikey = typer.Typer(
    help="API keys of the HTTP service: create (shown once), list, revoke.", no_args_is_help=True
)
out = Console()


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    db: DbOption = DEFAULT_DATABASE_URL,
    cloud: Annotated[
        str,
        typer.Option(
            "--cloud", envvar="OPTIINFRA_CLOUD", callback=checked_address, help=f"Which cloud: {HELP_FORMS}"
        ),
    ] = "sim",
    seed: Annotated[int, typer.Option(min=0, help="The in-process simulator's seed")] = DEFAULT_SEED,
    size: Annotated[
        int, typer.Option(min=0, max=MAX_FLEET_SIZE, help="The in-process simulator's fleet size")
    ] = DEFAULT_SIZE,
    llm: Annotated[
        str | None, typer.Option("--llm", help="ollama:MODEL or none (default $OPTIINFRA_LLM)")
    ] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="No API keys: local use only")] = False,
    distinct_approver: Annotated[
        bool, typer.Option("--distinct-approver", help="A workflow's requester may not approve it")
    ] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines")] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="Where people reach the service, for links in notifications (default: --host/--port)"
        ),
    ] = None,
    approval_policy: ApprovalPolicyOption = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes (use PostgreSQL for >1)")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Several replicas can share one PostgreSQL database."""
    import asyncio
    import os

    import uvicorn
    from pydantic import ValidationError

    from api.clouds import open_cloud
    from api.listening import check_can_listen
    from api.service.logs import configure
    from api.service.settings import ServiceSettings

    if no_auth and host not in ("127.0.0.1", "localhost", "::1"):
        raise typer.BadParameter("--no-auth is for local use: listen on 127.0.0.1", param_hint="--no-auth")
    try:  # a bad --llm is refused before the server starts; the model itself is made in each worker
        LlmSpec.parse(llm if llm is not None else os.environ.get("OPTIINFRA_LLM"))
    except LlmSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--llm") from None
    # The app factory reads its settings from the environment, so every worker process gets the same.
    os.environ.update(
        {
            "OPTIINFRA_DB": db,
            "OPTIINFRA_CLOUD": cloud,
            "OPTIINFRA_SEED": str(seed),
            "OPTIINFRA_SIZE": str(size),
            "OPTIINFRA_AUTH": str(not no_auth).lower(),
            "OPTIINFRA_DISTINCT_APPROVER": str(distinct_approver).lower(),
            "OPTIINFRA_LOG_JSON": str(log_json).lower(),
            "OPTIINFRA_PUBLIC_URL": public_url
            or os.environ.get("OPTIINFRA_PUBLIC_URL")
            or f"http://{host}:{port}",
        }
    )
    if approval_policy is not None:
        os.environ["OPTIINFRA_APPROVAL_POLICY"] = read_approval_policy(approval_policy).model_dump_json()
    if llm is not None:
        os.environ["OPTIINFRA_LLM"] = llm
    try:
        settings = ServiceSettings()
    except ValidationError as exc:  # e.g. OPTIINFRA_APPROVAL_POLICY that is not a policy
        first = exc.errors(include_url=False)[0]
        raise typer.BadParameter(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    configure(settings.log_json, settings.replica)
    check_can_listen(host, port)
    if CloudAddress.parse(cloud).kind not in ("sim", "http"):  # credentials checked before anything starts
        open_cloud(cloud, seed, size)
    # The schema made (or migrated, or refused) once, here, before any worker starts: a database that cannot
    # be reached or is newer than this code is one line on stderr, not a traceback per worker.
    asyncio.run(_prepare(db))
    out.print(f"OptiInfra on http://{host}:{port} (docs at /docs), database {db}, cloud {cloud}"
              + (", [yellow]no auth[/]" if no_auth else ""))  # fmt: skip
    uvicorn.run(
        "api.service.factory:app", factory=True, host=host, port=port, workers=workers, log_level="warning"
    )


async def _prepare(db: str) -> None:
    from graphs.rollout.workflow import open_rollouts

    async with open_rollouts(db):
        pass


@apikey.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what holds the key (recorded with their decisions)")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    db: DbOption = DEFAULT_DATABASE_URL,
) -> None:
    """Make a key and print it, once: only its hash is stored."""
    import asyncio

    from api.service.keys import ApiKeyError, create_key
    from graphs.database import Database

    async def go() -> str:
        database = await Database.open(db)
        try:
            return await create_key(database, name, role)
        finally:
            await database.close()

    try:
        key = asyncio.run(go())
    except ApiKeyError as exc:
        raise typer.BadParameter(str(exc)) from None
    print(key)


@apikey.command("list")
def apikey_list(
    db: DbOption = DEFAULT_DATABASE_URL, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Every key's name, role and state (never the key)."""
    import asyncio

    from graphs.database import Database
    from graphs.service_store import ServiceStore

    async def go() -> list[dict[str, object]]:
        database = await Database.open(db)
        try:
            keys = await ServiceStore(database).keys()
            return [k.model_dump(mode="json", exclude={"key_hash"}) for k in keys]
        finally:
            await database.close()

    keys = asyncio.run(go())
    if as_json:
        print(json.dumps(keys))
        return
    for k in keys:
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        out.print(f"{k['name']:<24} {k['role']:<9} {state}")


@apikey.command("revoke")
def apikey_revoke(name: str, db: DbOption = DEFAULT_DATABASE_URL) -> None:
    """Revoke a key at once: its next request is refused."""
    import asyncio

    from graphs.database import Database
    from graphs.service_store import ServiceStore

    async def go() -> bool:
        database = await Database.open(db)
        try:
            return await ServiceStore(database).revoke_key(name)
        finally:
            await database.close()

    if not asyncio.run(go()):
        raise typer.BadParameter(f"no active key named '{name}'")
    out.print(f"revoked {name}")
