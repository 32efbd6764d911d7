"""The scripted chat demo: a conversation that asks, starts a spot migration, approves it and follows up."""

from __future__ import annotations

import asyncio

from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.markup import escape

from api.chat_commands import show_turn
from api.rollouts import DEMO_OPERATOR, ProgressDisplay
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import ChatTurn, open_chat
from mock_cloud import CloudSimulator
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE
from tools.adapters.simulator import resilient_simulator

SCRIPT = (
    "Hi! What can you do?",
    "How much did we spend over the last 30 days by provider?",
    "Which instances could run on spot?",
    "Is the checkout service healthy?",
    "Move the staging instances to spot",
    "Approve",
    "How did it go?",
    "What's the weather in Lisbon?",
)


def run_chat_demo(
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    console: Console | None = None,
    model: BaseChatModel | None = None,
) -> list[ChatTurn]:
    """The script as one conversation on an in-process simulator and an in-memory database."""
    sim = CloudSimulator(seed, size)
    cloud = resilient_simulator(sim)
    progress = ProgressDisplay(console) if console else None

    async def converse() -> list[ChatTurn]:
        turns = []
        async with open_chat("memory", cloud, model) as chat:
            for message in SCRIPT:
                if console:
                    console.print(f"\n[bold cyan]you>[/] {escape(message)}")
                turn = await chat.turn("demo", message, Caller(DEMO_OPERATOR, "admin"), on_progress=progress)
                if console:
                    show_turn(turn, console)
                turns.append(turn)
        return turns

    return asyncio.run(converse())
