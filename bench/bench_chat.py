"""Chat benchmark: a full turn with no model and the SQLite checkpointer; model calls per turn with one.

Prints one JSON object:
- `turn`: p50/p99 (ms) of question turns (one per specialist, and small talk) through `open_chat` with
  an SQLite database, against a bare LangGraph graph of the same shape (understand → worker → respond) with
  the same checkpointer, calling the same router and the same specialists but keeping only the message and
  the reply in its state (no conversation memory, history or pending-approval check); measured in the same
  run, turns interleaved. Per question, the ratio of the medians is the supervisor's orchestration overhead.
- `model_calls`: per kind of turn, the calls a configured model received (a scripted model that answers
  like a good one: it routes as the embedded router would and restates the template).

Usage: python bench/bench_chat.py [--turns 40] [--size 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from agents.answers import answer
from agents.answers.base import Question
from agents.routing import SPECIALISTS, EmbeddedRouter, RouteParams
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from graphs.supervisor.graph import general
from mock_cloud import CloudSimulator
from tools.adapters.simulator import resilient_simulator
from tools.toolkit import build_toolkit

BENCH = Caller("bench", "admin")

QUESTIONS = (
    "what did we spend over the last 30 days by provider?",
    "which instances are over-provisioned?",
    "find idle instances",
    "is the checkout service healthy?",
    "hello",
)


class BareState(TypedDict, total=False):
    message: str
    route: str
    params: dict[str, Any]
    reply: str


def bare_graph(router: EmbeddedRouter, cloud: Any) -> StateGraph[BareState, None, BareState, BareState]:
    toolkit = build_toolkit(cloud)

    async def understand(state: BareState) -> dict[str, Any]:
        route = await router.aroute(state["message"])
        return {"route": route.route, "params": route.params.model_dump()}

    async def work(state: BareState) -> dict[str, Any]:
        if state["route"] in SPECIALISTS:
            question = Question(text=state["message"], params=RouteParams.model_validate(state["params"]))
            return {"reply": (await answer(state["route"], question, toolkit)).text}
        return {"reply": (await general({"message": state["message"]}))["reply"].text}

    async def respond(state: BareState) -> dict[str, Any]:
        return {"reply": state["reply"]}

    graph = StateGraph(BareState)
    graph.add_node("understand", understand)
    graph.add_node("work", work)
    graph.add_node("respond", respond)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "work")
    graph.add_edge("work", "respond")
    graph.add_edge("respond", END)
    return graph


class GoodModel(BaseChatModel):
    """Routes as the embedded router does and hands back the template: a model that is always right."""

    router: Any

    @property
    def _llm_type(self) -> str:
        return "bench"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = str(messages[-1].content)
        if "format" in kwargs:
            reply = json.dumps({"route": self.router.route(text).route})
        else:
            reply = text.split("Findings:\n", 1)[1].split("\n\nFacts:", 1)[0]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def turns(turn_count: int, size: int, workdir: Path) -> dict[str, Any]:
    router = EmbeddedRouter()
    router.warm()
    sim = CloudSimulator(7, size)
    cloud = resilient_simulator(sim)
    ours: dict[str, list[float]] = {q: [] for q in QUESTIONS}
    bare: dict[str, list[float]] = {q: [] for q in QUESTIONS}
    async with aiosqlite.connect(workdir / "bare.db") as conn:
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        graph = bare_graph(router, cloud).compile(checkpointer=saver)
        async with open_chat(f"sqlite:///{workdir / 'chat.db'}", cloud, router=router) as chat:
            for k in range(turn_count):
                message = QUESTIONS[k % len(QUESTIONS)]
                # Alternate who goes first: the second to ask the simulator the same question finds its
                # caches warm.
                for who in ("chat", "bare") if (k // len(QUESTIONS)) % 2 == 0 else ("bare", "chat"):
                    t0 = time.perf_counter()
                    if who == "chat":
                        await chat.turn("bench", message, BENCH)
                    else:
                        await graph.ainvoke({"message": message}, {"configurable": {"thread_id": "bench"}})
                    (ours if who == "chat" else bare)[message].append((time.perf_counter() - t0) * 1000)
    every_ours = [v for values in ours.values() for v in values]
    every_bare = [v for values in bare.values() for v in values]
    per_question = {
        q: {
            "chat_p50_ms": round(statistics.median(ours[q]), 1),
            "bare_p50_ms": round(statistics.median(bare[q]), 1),
            "ratio": round(statistics.median(ours[q]) / statistics.median(bare[q]), 3),
        }
        for q in QUESTIONS
    }
    return {
        "turns": turn_count,
        "fleet": size,
        "chat_p50_ms": round(percentile(every_ours, 50), 1),
        "chat_p99_ms": round(percentile(every_ours, 99), 1),
        "bare_graph_p50_ms": round(percentile(every_bare, 50), 1),
        "bare_graph_p99_ms": round(percentile(every_bare, 99), 1),
        "median_ratio_over_questions": round(statistics.median(p["ratio"] for p in per_question.values()), 3),
        "per_question": per_question,
    }


async def model_calls(size: int) -> dict[str, int]:
    router = EmbeddedRouter()
    router.warm()
    script = {
        "specialist question": "what did we spend over the last 30 days by provider?",
        "small talk": "hello",
        "start a spot migration": "move the staging instances to spot",
        "approve": "approve",
        "status": "how did it go?",
    }
    calls = {}
    async with open_chat(
        "memory", resilient_simulator(CloudSimulator(7, size)), GoodModel(router=router)
    ) as chat:
        for name, message in script.items():
            calls[name] = (await chat.turn("calls", message, BENCH)).model_calls
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--size", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timing = asyncio.run(turns(args.turns, args.size, Path(tmp)))
    print(json.dumps({"turn": timing, "model_calls": asyncio.run(model_calls(args.size))}, indent=2))


if __name__ == "__main__":
    main()
