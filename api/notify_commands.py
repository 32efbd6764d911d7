"""`optiinfra notify …`: notification channels (webhook, Slack, e-mail), what each subscribes to, a test send,
and the delivery log — kept in the same database as the service's. Secrets are read from the environment
(`--secret-env`, `--password-env`), never from the command line, and never printed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from api.workflow_commands import ByOption, DbOption, JsonOption, parse_tags
from graphs.database_url import DEFAULT_DATABASE_URL
from mock_cloud.clouds import PROVIDERS
from tools.channels.kinds import EVENT_KINDS

if TYPE_CHECKING:
    from graphs.notifier import Notifier

T = TypeVar("T")
EVENTS = ", ".join(EVENT_KINDS)
notify = typer.Typer(
    help="Notification channels: webhook, Slack, e-mail; which events reach each; the delivery log.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)


def _with_notifier(db: str, action: Callable[[Notifier], Awaitable[T]]) -> T:
    from graphs.database import Database
    from graphs.notifier import Notifier

    async def go() -> T:
        database = await Database.open(db)
        try:
            return await action(Notifier(database, os.environ.get("OPTIINFRA_PUBLIC_URL")))
        finally:
            await database.close()

    return asyncio.run(go())


def _secret(variable: str | None, option: str) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise typer.BadParameter(f"the environment variable {variable} is not set", param_hint=option)
    return value


@notify.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The channel's name (letters, digits, . _ -)")],
    webhook: Annotated[str | None, typer.Option(help="POST signed JSON to this URL")] = None,
    secret_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the webhook's HMAC signing key")
    ] = None,
    slack: Annotated[str | None, typer.Option(help="A Slack incoming webhook URL")] = None,
    email: Annotated[list[str] | None, typer.Option(help="A recipient, repeatable")] = None,
    smtp: Annotated[str | None, typer.Option(help="The relay, HOST[:PORT] (port 25 by default)")] = None,
    sender: Annotated[str, typer.Option("--from", help="The From address")] = "optiinfra@localhost",
    starttls: Annotated[bool, typer.Option("--starttls", help="STARTTLS before logging in")] = False,
    user: Annotated[str | None, typer.Option(help="SMTP login")] = None,
    password_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the SMTP password")
    ] = None,
    event: Annotated[list[str] | None, typer.Option(help=f"Repeatable; default all: {EVENTS}")] = None,
    severity: Annotated[
        str, typer.Option(help="The least severity sent: info, warning or critical")
    ] = "info",
    provider: Annotated[
        str | None, typer.Option(help=f"Only events about one cloud: {', '.join(PROVIDERS)}")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Only events about one region")] = None,
    application: Annotated[str | None, typer.Option(help="Only events about one application")] = None,
    team: Annotated[str | None, typer.Option(help="Only events about one team (tag team=…)")] = None,
    environment: Annotated[str | None, typer.Option(help="Only one environment (tag environment=…)")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable")] = None,
    by: ByOption = "cli",
    db: DbOption = DEFAULT_DATABASE_URL,
) -> None:
    """Add a channel: one of --webhook, --slack or --email (with --smtp), and what it subscribes to."""
    from pydantic import ValidationError

    from tools.channels.subscription import Channel

    given = [kind for kind, value in (("webhook", webhook), ("slack", slack), ("email", email)) if value]
    if len(given) != 1:
        raise typer.BadParameter("give one of --webhook URL, --slack URL or --email ADDRESS (with --smtp)")
    target: dict[str, Any]
    if webhook:
        target = {"kind": "webhook", "url": webhook, "secret": _secret(secret_env, "--secret-env")}
    elif slack:
        target = {"kind": "slack", "url": slack}
    else:
        if not smtp:
            raise typer.BadParameter("an e-mail channel needs its relay: --smtp HOST[:PORT]")
        host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "25")
        password = _secret(password_env, "--password-env")
        target = {"kind": "email", "to": email, "sender": sender, "host": host, "port": port,
                  "starttls": starttls, "username": user, "password": password}  # fmt: skip
    tags = parse_tags(tag) | {k: v for k, v in (("team", team), ("environment", environment)) if v}
    try:
        channel = Channel.model_validate({
            "name": name, "target": target, "events": event or [], "min_severity": severity,
            "scope": {"provider": provider, "region": region, "application": application, "tags": tags},
        })  # fmt: skip
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-")) or "channel"
        raise typer.BadParameter(f"{where}: {first['msg']}") from None

    _with_notifier(db, lambda n: n.store.add(channel, by))
    out.print(f"Channel {name}: {_describe(channel.shown().model_dump())}")


@notify.command("list")
def list_command(db: DbOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False) -> None:
    """The channels, with what each reaches (never its secrets) and subscribes to."""

    async def read(n: Notifier) -> list[dict[str, Any]]:
        return [s.channel.shown().model_dump(mode="json") for s in await n.store.channels()]

    shown = _with_notifier(db, read)
    if as_json:
        print(json.dumps(shown, indent=2))
    elif not shown:
        out.print(
            "No channels: add one with `optiinfra notify add NAME --slack URL` (or --webhook, --email)."
        )
    for channel in [] if as_json else shown:
        out.print(f"{channel['name']}: {_describe(channel)}")


@notify.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The channel's name")],
    by: ByOption = "cli",
    db: DbOption = DEFAULT_DATABASE_URL,
) -> None:
    """Send a test notification to one channel now, once; exit status 1 if it was not delivered."""
    delivery = _with_notifier(db, lambda n: n.test(name, by))
    if delivery.status != "sent":
        print(f"optiinfra: not delivered to {name}: {delivery.last_error}", file=sys.stderr)
        raise typer.Exit(1)
    out.print(f"Test notification sent to {name}.")


@notify.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The channel's name")], db: DbOption = DEFAULT_DATABASE_URL
) -> None:
    """Remove a channel (its delivery log stays)."""
    _with_notifier(db, lambda n: n.store.remove(name))
    out.print(f"Channel {name} removed.")


@notify.command("log")
def log(
    status: Annotated[str | None, typer.Option(help="pending, sent or failed")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    db: DbOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """The delivery log, newest first: each notice to each channel, and how sending it went."""
    from graphs.notification_store import DeliveryStatus

    if status is not None and status not in ("pending", "sent", "failed"):
        raise typer.BadParameter("one of pending, sent, failed", param_hint="--status")
    chosen: DeliveryStatus | None = status  # type: ignore[assignment]
    found = _with_notifier(db, lambda n: n.store.deliveries(chosen, channel, limit))
    if as_json:
        print(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        out.print("Nothing delivered yet.")
    for d in found:
        when = f"next try {d.next_attempt_at:%F %T}" if d.status == "pending" else f"{d.updated_at:%F %T}"
        error = f" — {d.last_error}" if d.last_error else ""
        out.print(f"{d.status:<8} {d.channel:<16} {d.notice_key}  attempts {d.attempts}, {when} UTC{error}")


def _describe(channel: dict[str, Any]) -> str:
    scope = {k: v for k, v in channel["scope"].items() if v and k != "tags"}
    named = [f"{k} {v}" for k, v in scope.items()] + [f"{k}={v}" for k, v in channel["scope"]["tags"].items()]
    events = ", ".join(channel["events"]) or "every event"
    about = f" about {', '.join(named)}" if named else ""
    return f"{channel['target']}; {events}{about}, {channel['min_severity']} and above"
