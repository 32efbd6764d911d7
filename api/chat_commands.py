"""`optiinfra route` and `optiinfra chat`: the router and the supervisor at the command line.

The model comes from `--llm` or `OPTIINFRA_LLM` (e.g. `ollama:llama3.2`) and its server from `OLLAMA_HOST`;
with neither, everything runs on the embedded router and the templates.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from agents.llm import DEFAULT_TIMEOUT_SECONDS, LlmSpec, LlmSpecError
from api.cloud_address import CloudOption
from api.workflow_commands import ByOption, DbOption, DistinctApproverOption, local_caller
from graphs.database_url import DEFAULT_DATABASE_URL
from graphs.rollout.authority import Caller, DecisionRules
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE, MAX_FLEET_SIZE

if TYPE_CHECKING:  # LangChain, the router's model and the graphs load when a command runs, not for `--help`
    from langchain_core.language_models import BaseChatModel

    from agents.routing import Route
    from graphs.supervisor.chat import Chat, ChatTurn

out = Console()
err = Console(stderr=True)
HISTORY_FILE = Path.home() / ".optiinfra_chat_history"

LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm", help="ollama:MODEL (e.g. ollama:llama3.2) or none; default $OPTIINFRA_LLM, else none"
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--llm-timeout", min=0.1, help="Seconds a model may take before the fallback answers")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def chosen_model(spec_text: str | None, timeout: float) -> BaseChatModel | None:
    from agents.llm import chat_model

    try:
        spec = LlmSpec.parse(spec_text if spec_text is not None else os.environ.get("OPTIINFRA_LLM"))
    except LlmSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--llm") from None
    return chat_model(spec, os.environ.get("OLLAMA_HOST"), timeout) if spec else None


def _route_json(route: Route) -> str:
    return json.dumps(route.model_dump(mode="json"))


def route_command(
    text: Annotated[
        str | None, typer.Argument(help="The request; omitted: one request per line on stdin")
    ] = None,
    llm: LlmOption = None,
    llm_timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    as_json: JsonOption = False,
) -> None:
    """Where a request would go: its route, what it names, how sure the router is and which router decided."""
    import asyncio

    from agents.routing import EmbeddedRouter, build_router

    router = build_router(chosen_model(llm, llm_timeout), EmbeddedRouter(), timeout=llm_timeout)
    if text is not None:
        found = asyncio.run(router.aroute(text))
        if as_json:
            print(_route_json(found))
        else:
            params = found.params.model_dump(exclude_defaults=True)
            out.print(
                f"[bold]{found.route}[/] (confidence {found.confidence:.2f}, {found.source}) {params or ''}"
            )
        return
    # Standard input: one JSON object per line. Without a model, lines are routed in batches (faster
    # than one by one); from a terminal, each as it is typed.
    if isinstance(router, EmbeddedRouter) and not sys.stdin.isatty():
        lines = [line.rstrip("\n") for line in sys.stdin]
        for start in range(0, len(lines), 256):
            for found in router.route_many(lines[start : start + 256]):
                print(_route_json(found))
        return

    async def each_line() -> None:
        for line in sys.stdin:
            print(_route_json(await router.aroute(line.rstrip("\n"))), flush=True)

    asyncio.run(each_line())


def show_turn(turn: ChatTurn, console: Console) -> None:
    source = "" if turn.route.source == "embedded" else f", {turn.route.source}"
    console.print(f"[dim]({turn.route.route}{source} · thread {turn.thread_id})[/]")
    console.print(escape(turn.reply))
    if turn.pending_approval is not None:
        from graphs.rollout.kinds import kind_of

        p = turn.pending_approval
        console.print(
            f"[yellow]Awaiting your approval[/]: {p.kind.replace('_', ' ')} {p.workflow_id}, "
            f"{len(p.instance_ids)} instances, {kind_of(p.kind).monthly(p.monthly_savings)}"
        )


def chat_command(
    message: Annotated[
        str | None, typer.Argument(help="One message; omitted: an interactive session")
    ] = None,
    thread: Annotated[
        str | None, typer.Option("--thread", help="Carry on this conversation (default: new)")
    ] = None,
    db: DbOption = DEFAULT_DATABASE_URL,
    llm: LlmOption = None,
    llm_timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    cloud_url: CloudOption = None,
    seed: Annotated[
        int, typer.Option(min=0, help="In-process simulator's seed (without --cloud)")
    ] = DEFAULT_SEED,
    size: Annotated[
        int, typer.Option(min=0, max=MAX_FLEET_SIZE, help="In-process simulator's size")
    ] = DEFAULT_SIZE,
    by: ByOption = "chat",
    distinct_approver: DistinctApproverOption = False,
    as_json: JsonOption = False,
) -> None:
    """Ask about costs, performance, resources and applications; start, approve and follow rollouts."""
    import asyncio

    from api.clouds import open_cloud, shared_address
    from api.rollouts import ProgressDisplay
    from graphs.supervisor.chat import new_thread_id, open_chat

    model = chosen_model(llm, llm_timeout)
    thread_id = thread or new_thread_id()
    caller = local_caller(by)
    rules = DecisionRules(distinct_approver)

    async def go() -> None:
        cloud = open_cloud(cloud_url, seed, size)
        async with open_chat(
            db, cloud, model, cloud_url=shared_address(cloud_url), model_timeout=llm_timeout, rules=rules
        ) as chat:
            if message is not None:
                progress = None if as_json else ProgressDisplay(out)
                turn = await chat.turn(thread_id, message, caller, on_progress=progress)
                if as_json:
                    print(json.dumps(turn.to_json()))
                else:
                    show_turn(turn, out)
                if (turn.data.get("error") or {}).get("code") == "provider_unavailable":
                    raise typer.Exit(1)  # the cloud did not answer: a script must not read this as success
                return
            await _session(chat, thread_id, caller)

    asyncio.run(go())


@contextmanager
def _line_history() -> Iterator[None]:
    """Arrow-key history across sessions, when a person types at a terminal."""
    if not sys.stdin.isatty():
        yield
        return
    import readline

    try:
        readline.read_history_file(HISTORY_FILE)
    except OSError:
        pass  # no history yet
    try:
        yield
    finally:
        try:
            readline.write_history_file(HISTORY_FILE)
        except OSError:
            pass  # a read-only home: history is a comfort, not a reason to fail


async def _session(chat: Chat, thread_id: str, caller: Caller) -> None:
    import asyncio

    from api.rollouts import ProgressDisplay
    from graphs.supervisor.chat import ChatError

    out.print(
        f"[bold]OptiInfra chat[/] (thread {thread_id}). Ask away; /history shows the conversation, "
        "Ctrl-D leaves."
    )
    with _line_history():
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except EOFError:
                out.print()
                return
            if not text.strip():
                continue
            if text.strip() == "/history":
                for e in await chat.history(thread_id):
                    out.print(f"[bold]you[/]: {escape(e.user)}\n[dim]({e.route})[/] {escape(e.reply)}")
                continue
            try:
                turn = await chat.turn(thread_id, text, caller, on_progress=ProgressDisplay(out))
            except ChatError as exc:
                err.print(f"optiinfra: {exc}")
                continue
            show_turn(turn, out)
