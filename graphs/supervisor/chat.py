"""Chatting: one turn of a conversation in, its reply out; the conversation kept in the database.

The public functions the CLI, the demo and the HTTP service share. A conversation is a LangGraph thread
(`chat:<thread id>`, so it never meets a rollout's thread); the rollouts it starts live in the same database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field

from agents.answers.base import Fact
from agents.narrative import Narrator
from agents.routing import EmbeddedRouter, Route, build_router
from graphs.checkpointing import open_checkpointer
from graphs.rollout.authority import Caller, DecisionRules
from graphs.rollout.events import Progress
from graphs.rollout.workflow import Rollouts, open_rollouts
from graphs.supervisor.graph import MAX_HOPS, SupervisorContext, build_supervisor_graph
from graphs.supervisor.models import STATE_TYPES, ChatInput, Exchange, PendingApproval
from tools.provider import CloudProvider
from tools.toolkit import build_toolkit

MAX_MESSAGE_CHARS = 4000


class ChatError(ValueError):
    """A message the conversation cannot take (empty, too long); the message says why."""


class ChatTurn(BaseModel):
    thread_id: str
    route: Route
    agent: str = Field(description="Who answered: a specialist, rollout, approval, status or general")
    reply: str
    data: dict[str, Any]
    facts: dict[str, Fact] = Field(description="The numbers the reply may state")
    narrated_by_model: bool
    pending_approval: PendingApproval | None
    model_calls: int

    def to_json(self) -> dict[str, Any]:
        """The CLI's and the service's shape: the route's name at the top, how it was decided beside it."""
        return {
            "thread_id": self.thread_id,
            "route": self.route.route,
            "agent": self.agent,
            "reply": self.reply,
            "data": self.data,
            "facts": self.facts,
            "narrated_by_model": self.narrated_by_model,
            "pending_approval": self.pending_approval.model_dump(mode="json")
            if self.pending_approval
            else None,
            "routing": self.route.model_dump(mode="json", exclude={"route"}),
            "model_calls": self.model_calls,
        }


class Chat:
    def __init__(self, graph: CompiledStateGraph[Any, Any, Any, Any], context: SupervisorContext) -> None:
        self.graph = graph
        self.context = context

    async def turn(
        self,
        thread_id: str,
        message: str,
        caller: Caller,
        on_progress: Progress | None = None,
    ) -> ChatTurn:
        """Answer `message` in the conversation `thread_id` (a new one when unknown), for `caller`: what
        the turn may start or decide is what the caller's role allows."""
        if not message.strip():
            raise ChatError("say something: the message is empty")
        if len(message) > MAX_MESSAGE_CHARS:
            raise ChatError(f"the message is {len(message)} characters; at most {MAX_MESSAGE_CHARS}")
        if "\x00" in message:
            raise ChatError("the message holds a NUL character")
        # A context per turn: turns of different conversations may run at once.
        context = dataclasses.replace(self.context, caller=caller, on_progress=on_progress)
        result = await self.graph.ainvoke(ChatInput(message=message), _config(thread_id), context=context)
        reply = result["reply"]
        return ChatTurn(
            thread_id=thread_id,
            route=result["route"],
            agent=reply.agent,
            reply=reply.text,
            data=reply.data,
            facts=reply.facts,
            narrated_by_model=reply.narrated_by_model,
            pending_approval=result.get("pending"),
            model_calls=result["model_calls"],
        )

    async def history(self, thread_id: str) -> list[Exchange]:
        snapshot = await self.graph.aget_state(_config(thread_id))
        return list(snapshot.values.get("history", []))


def new_thread_id() -> str:
    return f"t-{secrets.token_hex(4)}"


def _config(thread_id: str) -> RunnableConfig:
    # Each hop is two steps (worker, respond), plus understand: room for MAX_HOPS and nothing runaway.
    return {"configurable": {"thread_id": f"chat:{thread_id}"}, "recursion_limit": 2 * MAX_HOPS + 4}


@asynccontextmanager
async def open_chat(
    db_url: str,
    cloud: CloudProvider,
    model: BaseChatModel | None = None,
    *,
    router: EmbeddedRouter | None = None,
    rollouts: Rollouts | None = None,
    cloud_url: str | None = None,
    model_timeout: float = 20.0,
    rules: DecisionRules | None = None,
) -> AsyncIterator[Chat]:
    """Conversations on the database at `db_url` about `cloud`; with `model`, it routes and writes narratives
    (falling back to the embedded router and the templates whenever its answer does not hold). `rollouts`
    already open on the same database are shared rather than opened again (with their `rules`)."""
    chosen = build_router(model, router, timeout=model_timeout)
    narrator = Narrator(model, timeout=model_timeout) if model is not None else None
    async with contextlib.AsyncExitStack() as stack:
        if rollouts is None:
            rollouts = await stack.enter_async_context(open_rollouts(db_url, cloud, rules=rules))
        saver = await stack.enter_async_context(open_checkpointer(db_url, STATE_TYPES))
        context = SupervisorContext(
            router=chosen,
            toolkit=build_toolkit(cloud),
            rollouts=rollouts,
            narrator=narrator,
            cloud_url=cloud_url,
        )
        yield Chat(build_supervisor_graph().compile(checkpointer=saver), context)


__all__ = ["Chat", "ChatError", "ChatTurn", "Rollouts", "new_thread_id", "open_chat"]
