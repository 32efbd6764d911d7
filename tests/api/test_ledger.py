"""One ledger: chat, `optiinfra recommend`, GET /api/v1/recommendations and rollout plans give the same count
and savings for the same scope, for every kind of opportunity."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agents.review import RolloutKind
from agents.routing import EmbeddedRouter
from graphs.rollout.authority import Caller
from graphs.rollout.models import RolloutSettings, Scope
from graphs.rollout.planning import make_plan
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator
from tests.api.test_service import open_service
from tests.conftest import cloud_of

SEED, SIZE = 7, 300
# The question chat is asked for each kind, and the facts its answer states the count and savings in.
QUESTIONS = {
    "idle": ("which aws machines are idle?", "idle"),
    "spot": ("which aws instances could run on spot?", "spot_candidates"),
    "rightsize": ("which aws instances are over-provisioned?", "downsize"),
    "reserved": ("which aws instances should we reserve?", "opportunities"),
    "off_hours": ("which aws machines are idle at night?", "off_hours"),
}
PLANNED: dict[str, RolloutKind] = {
    "spot": "spot_migration",
    "rightsize": "rightsizing",
    "off_hours": "off_hours",
}


@pytest.mark.parametrize("kind", list(QUESTIONS))
async def test_the_same_scope_gives_the_same_count_and_savings_everywhere(
    kind: str, embedded_router: EmbeddedRouter
) -> None:
    question, count_fact = QUESTIONS[kind]
    cloud = cloud_of(CloudSimulator(SEED, SIZE))
    async with open_chat("memory", cloud, router=embedded_router) as chat:
        turn = await chat.turn("ledger", question, Caller("me", "viewer"))
    by_chat = (turn.facts[count_fact], turn.facts["monthly_usd"])

    printed = subprocess.run(
        [sys.executable, "-m", "api.cli", "recommend", "--seed", str(SEED), "--size", str(SIZE),
         "--kind", kind, "--provider", "aws", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    rows = json.loads(printed)
    by_cli = (len(rows), round(sum(r["monthly_savings"] for r in rows), 2))

    async with open_service(size=SIZE) as service:
        page = (
            await service.client.get(
                f"/api/v1/recommendations?kind={kind}&provider=aws&limit=1", headers=service.as_("viewer")
            )
        ).json()
    by_http = (page["total"], page["monthly_savings"])

    assert by_chat == by_cli == by_http, (by_chat, by_cli, by_http)
    assert by_chat[0] > 0
    if kind in PLANNED:
        fresh = cloud_of(CloudSimulator(SEED, SIZE))
        plan = make_plan(fresh, PLANNED[kind], Scope(provider="aws"), RolloutSettings())
        assert (plan.opportunities, plan.monthly_savings) == by_chat
