"""The overview's figures are the simulator's own, read over its REST API as a sceptical user would: spend
this month and the same days of the last, the run rate of what runs, each day, the breakdowns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import cloud_of
from tools.analysis.outlook import HOURS_A_MONTH, outlook


def test_the_overview_states_the_simulators_own_figures() -> None:
    sim = CloudSimulator(seed=7, size=300)
    found = outlook(cloud_of(sim))
    rest = TestClient(create_app(sim))
    now = datetime.fromtimestamp(sim.now(), UTC)
    span = (now - datetime(2026, 6, 1, tzinfo=UTC)).total_seconds() / 86400
    assert found.spent_usd == pytest.approx(
        rest.get("/costs", params={"days": span}).json()["total"], abs=0.01
    )
    same_days_of_may = datetime(2026, 5, 1, tzinfo=UTC) + (now - datetime(2026, 6, 1, tzinfo=UTC))
    previous = rest.get("/costs", params={"days": span, "until": same_days_of_may.isoformat()}).json()[
        "total"
    ]
    assert found.previous_usd == pytest.approx(previous, abs=0.01)
    running = rest.get("/instances", params={"state": "running", "limit": 10_000}).json()["instances"]
    assert found.running == len(running)
    hourly = sum(i["hourly_price"] for i in running)
    assert found.run_rate_monthly_usd == pytest.approx(hourly * HOURS_A_MONTH, abs=0.05)
    days = rest.get("/costs", params={"group_by": "day", "days": 30, "until": "2026-06-17T00:00:00Z"}).json()
    assert found.daily_usd == [round(g["amount"], 2) for g in sorted(days["groups"], key=lambda g: g["key"])]
    teams = rest.get("/costs", params={"group_by": "tag:team", "days": span}).json()["groups"]
    assert {g.key: round(g.amount, 2) for g in found.breakdowns["tag:team"]} == {
        g["key"]: round(g["amount"], 2) for g in teams
    }
