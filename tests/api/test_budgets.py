"""Budgets where people meet them: kept once per name, each threshold new once per period, on the command
line, over HTTP with roles, and in chat — the spend stated is the simulator's own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agents.routing import EmbeddedRouter
from api.service.app import create_app as create_service
from api.service.keys import ROLES, create_key
from api.service.settings import ServiceSettings
from graphs.budget_store import BudgetError, BudgetStore
from graphs.database import Database
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator
from tests.conftest import cloud_of
from tools.analysis.budgets import Budget, status
from tools.models import InstanceFilter

ML = Budget(name="ml", amount=500, scope=InstanceFilter(tags={"team": "ml"}))


async def test_a_threshold_is_new_once_a_period_whoever_checks(db_url: str) -> None:
    sim = CloudSimulator(seed=7, size=200)
    first = await Database.open(db_url)
    second = await Database.open(db_url) if db_url != "memory" else first
    try:
        await BudgetStore(first).create(ML, "alice")
        with pytest.raises(BudgetError, match="exists already"):
            await BudgetStore(second).create(ML, "bob")
        found = status(cloud_of(sim), ML)
        assert found.fired  # 500 a month is far below what team ml spends
        news = await asyncio.gather(BudgetStore(first).record(found), BudgetStore(second).record(found))
        assert sorted(news[0] + news[1]) == sorted(f.key for f in found.fired)
        assert await BudgetStore(first).record(found) == []
        sim.advance(datetime(2026, 7, 2, tzinfo=UTC).timestamp() - sim.now())  # a new month: new alerts
        assert await BudgetStore(first).record(status(cloud_of(sim), ML))
        await BudgetStore(first).delete("ml")
        assert await BudgetStore(first).budgets() == []
    finally:
        await first.close()
        if second is not first:
            await second.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "budget", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_the_command_line_creates_checks_and_deletes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    made = _cli("create", "ml", "--amount", "5000", "--team", "ml", "--forecast-threshold", "50", "--db", db)
    assert made.stdout.strip() == "Budget ml: 5,000.00 USD a month for team=ml; alerts at 50 % forecast"
    checked = _cli("status", "--db", db, "--size", "300")
    spent = status(cloud_of(CloudSimulator(seed=7, size=300)), ML).spent_usd
    assert checked.stdout.startswith(f"ml: {spent:,.2f} of 5,000.00 USD spent")
    assert "crossed: 50 % forecast (new)" in checked.stdout
    assert "(new)" not in _cli("status", "--db", db, "--size", "300").stdout
    again = _cli("create", "ml", "--amount", "1", "--db", db)
    assert again.returncode == 1 and again.stderr.strip() == (
        "optiinfra: a budget named 'ml' exists already (delete it first)"
    )
    weekly = _cli("create", "w", "--amount", "1", "--period", "week", "--db", db)
    assert weekly.returncode == 2 and "'month', 'quarter' or 'year'" in weekly.stderr
    assert _cli("delete", "ml", "--db", db).stdout.strip() == "Budget ml deleted."
    assert _cli("delete", "ml", "--db", db).returncode == 1


async def test_over_http_viewers_read_operators_manage() -> None:
    sim = CloudSimulator(seed=7, size=200)
    app = create_service(ServiceSettings(db="memory", size=200), cloud=cloud_of(sim), sweep=False)
    async with app.router.lifespan_context(app):
        keys = {role: await create_key(app.state.rollouts.db, f"{role}-key", role) for role in ROLES}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:

            def as_(role: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[index]

            body = ML.model_dump(mode="json")
            refused = await client.post("/api/v1/budgets", json=body, headers=as_("viewer"))
            assert refused.status_code == 403
            made = await client.post("/api/v1/budgets", json=body, headers=as_("operator"))
            assert made.status_code == 201 and made.json()["definition"]["created_by"] == "operator-key"
            assert made.json()["status"]["spent_usd"] == status(cloud_of(sim), ML).spent_usd
            assert sorted(made.json()["new"]) == sorted(f["key"] for f in made.json()["status"]["fired"])
            taken = await client.post("/api/v1/budgets", json=body, headers=as_("operator"))
            assert taken.status_code == 409
            wrong = await client.post("/api/v1/budgets", json={**body, "amount": -1}, headers=as_("operator"))
            assert wrong.status_code == 422
            listed = (await client.get("/api/v1/budgets", headers=as_("viewer"))).json()
            assert [b["status"]["name"] for b in listed] == ["ml"] and listed[0]["new"] == []
            assert (await client.delete("/api/v1/budgets/ml", headers=as_("viewer"))).status_code == 403
            assert (await client.delete("/api/v1/budgets/ml", headers=as_("operator"))).status_code == 204
            assert (await client.get("/api/v1/budgets/ml", headers=as_("viewer"))).status_code == 404


async def test_chat_says_how_each_budget_stands(embedded_router: EmbeddedRouter, tmp_path: Path) -> None:
    sim = CloudSimulator(seed=7, size=200)
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    async with open_chat(url, cloud_of(sim), router=embedded_router) as chat:
        empty = await chat.turn("t1", "are we on budget?", Caller("me", "viewer"))
        assert empty.reply.startswith("No budgets are set.")
        await BudgetStore(chat.context.rollouts.db).create(ML, "alice")
        turn = await chat.turn("t1", "which budgets are at risk?", Caller("me", "viewer"))
        spent = status(cloud_of(sim), ML).spent_usd
        assert turn.reply.startswith("Budgets: 1 of 1 at risk")
        assert f"ml: {spent:,.2f} of 500.00 USD spent" in turn.reply
        refused = await chat.turn("t1", "set a budget of 20,000 for the ml team", Caller("me", "viewer"))
        assert refused.reply.startswith("Budget team=ml: the viewer role may not manage budgets")
        order = await chat.turn(
            "t1", "set a budget of 20k for web, alert me at 80 %", Caller("me", "operator")
        )
        web = Budget(name="web", amount=20_000, scope=InstanceFilter(tags={"team": "web"}))
        assert order.reply.startswith(
            "Budget web set: 20,000.00 USD a month for team=web; alerts at 80 % actual."
        )
        assert f"web: {status(cloud_of(sim), web).spent_usd:,.2f} of 20,000.00 USD spent" in order.reply
        kept = await BudgetStore(chat.context.rollouts.db).get("web")
        assert kept.created_by == "me" and [t.key for t in kept.budget.thresholds] == ["actual:80"]
        asked = await chat.turn("t1", "create a quarterly budget for the ml team", Caller("me", "operator"))
        assert asked.reply.startswith("Budget team=ml: how much?")
        deleting = await chat.turn("t1", "delete the ml budget", Caller("me", "admin"))
        assert deleting.reply.startswith("I can't change or delete budgets from chat.")
