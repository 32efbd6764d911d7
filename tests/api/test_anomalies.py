"""Cost anomalies where people meet them: kept in the database (new once, however many check), on the
command line, over HTTP with roles, and in chat — each figure the simulator's own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agents.routing import EmbeddedRouter
from api.service.app import create_app as create_service
from api.service.keys import ROLES, create_key
from api.service.settings import ServiceSettings
from graphs.anomaly_store import AnomalyNotFoundError, AnomalyStore
from graphs.database import Database
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator
from mock_cloud.faults import cost_spike
from tests.conftest import cloud_of, serve_simulator
from tools.analysis.root_cause import FoundAnomaly, find_anomalies

MONDAY = datetime(2026, 6, 15, tzinfo=UTC).timestamp()
SPIKE = {"start": "2026-06-15T00:00:00Z", "end": "2026-06-17T00:00:00Z", "factor": 2, "tags": {"team": "ml"}}


def spiked_sim() -> CloudSimulator:
    sim = CloudSimulator(seed=7, size=300)
    sim.set_faults({}, cost_spikes=[cost_spike(MONDAY, MONDAY + 2 * 86400, 2.0, tags={"team": "ml"})])
    return sim


@pytest.fixture(scope="module")
def found() -> list[FoundAnomaly]:
    return find_anomalies(cloud_of(spiked_sim()), since_days=7)


async def test_an_anomaly_is_new_once_whoever_records_it(db_url: str, found: list[FoundAnomaly]) -> None:
    first, second = await Database.open(db_url), None
    try:
        # Two replicas (or cron and the service) record the same run at the same moment.
        second = await Database.open(db_url) if db_url != "memory" else first
        opened = await asyncio.gather(AnomalyStore(first).record(found), AnomalyStore(second).record(found))
        assert sorted(opened[0] + opened[1]) == sorted(a.key for a in found)
        assert await AnomalyStore(first).record(found) == []
        store = AnomalyStore(first)
        team = next(a for a in found if (a.dimension, a.value) == ("tag:team", "ml"))
        done = await store.update(team.key, "alice", "resolved", "real")
        assert (done.status, done.feedback, done.updated_by) == ("resolved", "real", "alice")
        await store.record(found)  # found again: its figures refreshed, what alice said kept
        assert (await store.get(team.key)).status == "resolved"
        by_impact = sorted(found, key=lambda a: (-a.impact_usd, a.key))  # the store's order
        assert [a.key for a in await store.anomalies(status="open")] == [
            a.key for a in by_impact if a.key != team.key
        ]
        with pytest.raises(AnomalyNotFoundError, match="no anomaly 'nope'"):
            await store.update("nope", "alice", "acknowledged")
    finally:
        await first.close()
        if second is not None and second is not first:
            await second.close()


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with serve_simulator(seed=7, size=300) as url:
        assert httpx.post(f"{url}/faults", json={"cost_spikes": [SPIKE]}).status_code == 200
        yield url


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "anomalies", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_command_line_checks_keeps_and_resolves(served: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    checked = _cli("check", "--cloud", served, "--db", db)
    assert checked.returncode == 0, checked.stderr
    assert "tag:team=ml@2026-06-15 to 2026-06-16 (new): spike" in checked.stdout
    # The figure is the simulator's own: what its REST API bills team ml on those two days.
    billed = httpx.get(
        f"{served}/costs", params={"days": 2, "until": "2026-06-17T00:00:00Z", "tag": "team=ml"}
    )
    assert f": spike, medium, open — {billed.json()['total']:,.2f} USD against" in checked.stdout
    again = _cli("check", "--cloud", served, "--db", db)
    assert again.returncode == 0 and ", 0 new;" in again.stdout and "(new)" not in again.stdout
    resolved = _cli("resolve", "tag:team=ml@2026-06-15", "--feedback", "real", "--by", "alice", "--db", db)
    assert resolved.stdout.strip() == "tag:team=ml@2026-06-15: resolved, feedback real (by alice)"
    listed = _cli("list", "--status", "open", "--spikes", "--db", db)
    assert "tag:team=ml@" not in listed.stdout and "application=ml-" in listed.stdout
    unknown = _cli("ack", "nope", "--db", db)
    assert unknown.returncode == 1 and unknown.stderr.strip() == (
        "optiinfra: no anomaly 'nope' (see `optiinfra anomalies list`)"
    )
    wrong = _cli("resolve", "tag:team=ml@2026-06-15", "--feedback", "maybe", "--db", db)
    assert wrong.returncode == 2 and "not_an_anomaly, expected, real" in wrong.stderr


async def test_over_http_viewers_read_operators_check_and_resolve() -> None:
    settings = ServiceSettings(db="memory", size=300)
    app = create_service(settings, cloud=cloud_of(spiked_sim()), sweep=False)
    async with app.router.lifespan_context(app):
        keys = {role: await create_key(app.state.rollouts.db, f"{role}-key", role) for role in ROLES}

        def as_(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[index]

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            refused = await client.post("/api/v1/anomalies/check", headers=as_("viewer"))
            assert (
                refused.status_code == 403
                and "may not manage budgets, anomalies and notifications" in refused.json()["detail"]
            )
            checked = await client.post("/api/v1/anomalies/check", headers=as_("operator"))
            assert checked.status_code == 200
            body = checked.json()
            assert "tag:team=ml@2026-06-15" in body["new"] and len(body["new"]) == len(body["items"])
            listed = (await client.get("/api/v1/anomalies?kind=spike", headers=as_("viewer"))).json()
            assert listed["total"] == listed["spikes"] >= 1
            key = "tag:team=ml@2026-06-15"
            done = await client.patch(f"/api/v1/anomalies/{key}", json={"status": "acknowledged"},
                                      headers=as_("operator"))  # fmt: skip
            assert done.status_code == 200 and done.json()["updated_by"] == "operator-key"
            empty = await client.patch(f"/api/v1/anomalies/{key}", json={}, headers=as_("operator"))
            assert empty.status_code == 422
            missing = await client.get("/api/v1/anomalies/nope", headers=as_("viewer"))
            assert missing.status_code == 404
            again = (await client.post("/api/v1/anomalies/check", headers=as_("admin"))).json()
            assert again["new"] == []


async def test_chat_names_the_spike_and_what_drove_it(embedded_router: EmbeddedRouter) -> None:
    sim = spiked_sim()
    async with open_chat("memory", cloud_of(sim), router=embedded_router) as chat:
        turn = await chat.turn("t1", "why did the ml team's spend jump?", Caller("me", "viewer"))
    assert turn.route.route == "cost" and turn.reply.startswith("Team ml, last 7 days: 1 cost spike")
    billed = sim.costs(start=MONDAY, end=MONDAY + 2 * 86400, tags={"team": "ml"}).total
    assert f"team ml, Jun 15 – Jun 16: {billed:,.2f} USD against" in turn.reply
