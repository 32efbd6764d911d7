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

from graphs.database import SCHEMA_VERSION, Database, SchemaError
from graphs.rollout.workflow import open_rollouts


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


async def test_a_version_2_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = await Database.open(f"sqlite:///{path}")
    await db.close()
    with sqlite3.connect(path) as conn:  # as version 2 left it: no decisions table, stamped 2
        conn.execute("DROP TABLE optiinfra_decisions")
        conn.execute("DELETE FROM optiinfra_schema WHERE version > 2")
        conn.execute(
            "INSERT INTO optiinfra_api_keys (name, role, key_hash, created_at) "
            "VALUES ('alice', 'approver', 'h', '2026-06-01 00:00:00')"
        )
    db = await Database.open(f"sqlite:///{path}")
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        assert [k.name for k in await db.keys()] == ["alice"]
        assert await db.take_decision("wf-1", {"decision": "approve", "by": "alice"})
        assert not await db.take_decision("wf-1", {"decision": "reject", "by": "bob"})
        assert await db.decision("wf-1") == {"decision": "approve", "by": "alice"}
    finally:
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
