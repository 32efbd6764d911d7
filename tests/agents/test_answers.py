"""The answer evaluation: operators' questions answered by the whole chat (router, supervisor, specialists,
tools) against a seeded simulator whose clock stands part-way through a month, each reply checked against
the figure the simulator's own REST API (or the ledger) gives for the scope asked. Floors: 95 % of the
questions answered with the right agent, scope and figure, in the tuning part and the held-out part alike;
no rollout started by a question.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agents.routing import EmbeddedRouter
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator, SimClock
from mock_cloud.server import create_app
from tests.agents.answer_check import Case, Verdict, judge
from tests.conftest import cloud_of

EVAL = Path(__file__).with_name("answer_eval.jsonl")
CASES = [Case(**json.loads(line)) for line in EVAL.read_text().splitlines() if line.strip()]
# Thursday 2026-06-11 05:00 UTC: ten days and five hours into June, so "this month", "last week" and "in May"
# are each a different window (the windows in answer_eval.jsonl are counted back from it).
CLOCK = datetime(2026, 6, 11, 5, tzinfo=UTC)
OPERATOR = Caller("eval", "operator")  # may start rollouts: only an order should


@pytest.fixture
async def verdicts(embedded_router: EmbeddedRouter) -> AsyncIterator[list[Verdict]]:
    sim = CloudSimulator(7, 600, clock=SimClock(CLOCK))
    cloud = cloud_of(sim)
    found: list[Verdict] = []
    transport = httpx.ASGITransport(app=create_app(sim))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://simulator") as api,
        open_chat("memory", cloud, router=embedded_router) as chat,
    ):
        for k, case in enumerate(CASES):
            for earlier in case.thread:
                await chat.turn(f"eval-{k}", earlier, OPERATOR)
            before = len(await chat.context.rollouts.store.runs())
            turn = await chat.turn(f"eval-{k}", case.q, OPERATOR)
            started = len(await chat.context.rollouts.store.runs()) - before
            found.append(await judge(case, turn.reply, turn.agent, api, cloud, started))
    yield found


def _score(verdicts: list[Verdict], part: str) -> tuple[float, list[str]]:
    mine = [v for v in verdicts if v.case.part == part]
    wrong = [f"{v.case.q!r}: {'; '.join(v.problems)} — {v.reply.splitlines()[0] if v.reply else ''}"
             for v in mine if not v.right]  # fmt: skip
    return (1 - len(wrong) / len(mine) if mine else 0.0), wrong


def test_the_evaluation_is_large_enough_to_mean_something() -> None:
    assert len(CASES) >= 150
    assert sum(c.part == "held_out" for c in CASES) >= 40
    assert sum(1 for c in CASES if c.figure and c.figure.get("refuse")) >= 15  # asks beyond the tools


async def test_answers_state_the_clouds_own_figures_for_the_scope_asked(verdicts: list[Verdict]) -> None:
    by_questions = [v.case.q for v in verdicts if any("started" in p for p in v.problems)]
    tuning, tuning_wrong = _score(verdicts, "tuning")
    held_out, held_out_wrong = _score(verdicts, "held_out")
    print(f"\nanswer evaluation: tuning {tuning:.1%} of {sum(v.case.part == 'tuning' for v in verdicts)}, "
          f"held-out {held_out:.1%} of {sum(v.case.part == 'held_out' for v in verdicts)}")  # fmt: skip
    for wrong in tuning_wrong + held_out_wrong:
        print("  wrong:", wrong)
    assert not by_questions, by_questions
    assert tuning >= 0.95 and held_out >= 0.95, "\n".join(tuning_wrong + held_out_wrong)
