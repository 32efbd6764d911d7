"""The database's schema: made once however many replicas start together, migrated forward from an older
version with its rows kept, and refused, in one line, when it is newer than the code."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from graphs.budget_store import budget_alerts
from graphs.database import SCHEMA_VERSION, Database, SchemaError
from graphs.rollout.store import RolloutStore
from graphs.rollout.workflow import open_rollouts
from graphs.service_store import ServiceStore


async def _start_a_replica(url: str) -> int:
    async with open_rollouts(url) as rollouts:  # the tables, the migrations and the checkpointer's setup
        return await rollouts.db.schema_version()


@pytest.mark.postgres
async def test_replicas_starting_together_on_a_fresh_database_all_start(postgres_url: str) -> None:
    for _ in range(5):  # the race lost 3 rounds in 5 before the schema lock
        schema = f"t_start_{secrets.token_hex(6)}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{postgres_url}?options=-csearch_path%3D{schema}"
            versions = await asyncio.gather(*(_start_a_replica(url) for _ in range(4)))
            assert versions == [SCHEMA_VERSION] * 4
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


# The tables each version added after the first two, and the columns it added to older ones.
_ADDED = {
    3: (["optiinfra_decisions"], []),
    4: (["optiinfra_cancellations"], []),
    5: (["optiinfra_anomalies", "optiinfra_budgets", "optiinfra_budget_alerts"], []),
    6: (
        ["optiinfra_signoffs", "optiinfra_channels", "optiinfra_deliveries"],
        [("optiinfra_budget_alerts", "action_workflow_id")],
    ),
    7: (["optiinfra_sessions"], []),
    8: (["optiinfra_marks"], []),
}


@pytest.mark.parametrize("old", [2, 5])
async def test_an_older_database_is_migrated_and_keeps_its_rows(tmp_path: Path, old: int) -> None:
    path = tmp_path / "old.db"
    db = await Database.open(f"sqlite:///{path}")
    await db.close()
    with sqlite3.connect(path) as conn:  # as version `old` left it: without what later versions added
        for version in range(SCHEMA_VERSION, old, -1):
            tables, columns = _ADDED[version]
            for table, column in columns:
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            for table in tables:
                conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM optiinfra_schema WHERE version > ?", (old,))
        conn.execute(
            "INSERT INTO optiinfra_api_keys (name, role, key_hash, created_at) "
            "VALUES ('alice', 'approver', 'h', '2026-06-01 00:00:00')"
        )
        if old >= 5:
            conn.execute(
                "INSERT INTO optiinfra_budget_alerts (name, period_start, threshold, fired_at, figure) "
                "VALUES ('ml', '2026-06-01', 'actual:50', '2026-06-10 00:00:00', '{}')"
            )
    db = await Database.open(f"sqlite:///{path}")
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        assert [k.name for k in await ServiceStore(db).keys()] == ["alice"]
        rollouts = RolloutStore(db)
        assert await rollouts.take_decision("wf-1", {"decision": "approve", "by": "alice"})
        assert not await rollouts.take_decision("wf-1", {"decision": "reject", "by": "bob"})
        assert await rollouts.decision("wf-1") == {"decision": "approve", "by": "alice"}
        async with db.transaction() as conn:
            alerts = (await conn.execute(select(budget_alerts))).all()
        assert [(a.name, a.action_workflow_id) for a in alerts] == ([("ml", None)] if old >= 5 else [])
    finally:
        await db.close()
    db = await Database.open(f"sqlite:///{path}")  # opened again: nothing left to migrate
    await db.close()


async def test_a_database_newer_than_the_code_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = await Database.open(f"sqlite:///{path}")
    await db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO optiinfra_schema (version, applied_at) VALUES (99, '2027-01-01 00:00:00')")
    with pytest.raises(SchemaError, match="version 99, newer than this optiinfra's"):
        await Database.open(f"sqlite:///{path}")
    for command in (["workflow", "list"], ["serve", "--port", "18124"]):
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", *command, "--db", f"sqlite:///{path}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith("optiinfra: the database's schema is version 99")
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert "OptiInfra on" not in result.stdout  # the server never said it was up
