"""The service's database engine: one SQLAlchemy metadata, its schema version and migrations, and short
transactions over an async engine. The tables belong to the stores that query them (`STORES`):

- `graphs.rollout.store`: workflow runs, plans, the audit log, claims, decisions, the approvals people
  gave, cancellations and progress events;
- `graphs.service_store`: API keys, and leases (a workflow's, the scheduler's);
- `graphs.budget_store` and `graphs.anomaly_store`: budgets, the thresholds they crossed, cost anomalies;
- `graphs.notification_store`: notification channels and the delivery log.

One URL chooses the database for these tables and for LangGraph's checkpoints alike: `memory`,
`sqlite:///path` (the embedded default) or `postgresql://…` (several replicas on one database).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Table,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from graphs.database_url import DatabaseUrl

# Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
CHUNK = 500

metadata = MetaData()
# The modules whose tables make up the schema: each defines its tables on `metadata` and queries them.
STORES = (
    "graphs.rollout.store",
    "graphs.service_store",
    "graphs.budget_store",
    "graphs.anomaly_store",
    "graphs.notification_store",
)

schema_version = Table(
    "optiinfra_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class AddColumn:
    """A migration step: a column added to a table an older version made. Skipped where the table does not
    exist yet (`create_all`, which runs after the steps, makes it whole) or has the column already."""

    table: str
    column: str
    sql_type: str

    def run(self, sync: Connection) -> None:
        found = inspect(sync)
        if found.has_table(self.table) and all(
            c["name"] != self.column for c in found.get_columns(self.table)
        ):
            sync.execute(text(f"ALTER TABLE {self.table} ADD COLUMN {self.column} {self.sql_type}"))


# What each version brought: steps run in order, once, on a database stamped older (forward only). A version
# that only adds tables has no step (`create_all` adds them); one that changes a table has its steps.
MIGRATIONS: tuple[tuple[int, str, tuple[AddColumn, ...]], ...] = (
    (1, "workflow runs, the audit log, plans, claims", ()),
    (2, "API keys, progress events, leases", ()),
    (3, "decisions: one per workflow, compare-and-set", ()),
    (4, "cancellations", ()),
    (5, "cost anomalies, budgets and the thresholds they crossed", ()),
    (
        6,
        "approvals given one by one, notification channels and deliveries, budget actions",
        (AddColumn("optiinfra_budget_alerts", "action_workflow_id", "VARCHAR(64)"),),
    ),
    (7, "console sessions", ()),
    (8, "marks: how far the off-hours schedules have been enforced", ()),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
# PostgreSQL advisory lock held while a process creates or migrates the schema: replicas starting together
# on a fresh database take turns instead of racing each other's CREATE TABLE (a unique violation).
SCHEMA_LOCK = 0x0F71_1AF0
SCHEMA_LOCK_POLL_SECONDS = 0.05


class SchemaError(RuntimeError):
    """The database's schema is newer than this code knows: running it would misread or corrupt it."""


def as_utc(moment: datetime) -> datetime:
    """SQLite keeps no time zone: every time written here is UTC, so a naive one read back is too."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Times as the tables return them: SQLite drops the zone of the UTC times written, so they come back naive.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class Database:
    """An async engine with the schema made and migrated; every store's write is its own short
    transaction (`transaction()`)."""

    def __init__(self, engine: AsyncEngine, url: DatabaseUrl) -> None:
        self.engine = engine
        self.url = url
        # `memory` is one shared connection: concurrent nodes (the parallel reviews) must take turns on it.
        self._turns = asyncio.Lock() if url.kind == "memory" else None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._turns is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._turns, self.engine.begin() as conn:
            yield conn

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One short transaction: committed when the block ends, rolled back if it raises."""
        return self._transaction()

    @classmethod
    async def open(cls, url: str) -> Database:
        parsed = DatabaseUrl.parse(url)
        if parsed.kind == "memory":
            engine = create_async_engine(parsed.sqlalchemy, poolclass=StaticPool)
        elif parsed.kind == "sqlite":
            engine = create_async_engine(parsed.sqlalchemy, connect_args={"timeout": 30})
            event.listen(engine.sync_engine, "connect", _sqlite_wal)
        else:
            engine = create_async_engine(parsed.sqlalchemy, pool_pre_ping=True)
        db = cls(engine, parsed)
        try:
            while True:
                async with db._transaction() as conn:
                    if await _schema_locked(conn):
                        await _migrate(conn)
                        break
                await asyncio.sleep(SCHEMA_LOCK_POLL_SECONDS)
        except BaseException:
            await engine.dispose()
            raise
        return db

    async def schema_version(self) -> int:
        async with self._transaction() as conn:
            return int((await conn.execute(select(func.max(schema_version.c.version)))).scalar() or 0)

    async def ping(self) -> None:
        """Raises when the database cannot be reached."""
        async with self._transaction() as conn:
            await conn.execute(select(1))

    async def close(self) -> None:
        await self.engine.dispose()

    def insert_ignoring(self, table: Table, keys: list[str]) -> Any:
        """INSERT that skips rows whose `keys` already exist (both dialects say ON CONFLICT DO NOTHING).
        Add `.returning(<a key column>)` to learn whether a row went in: psycopg reports no rowcount."""
        return self.insert(table).on_conflict_do_nothing(index_elements=keys)

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        return _insert(self.url.kind)(table)


def _insert(kind: str) -> Any:
    return postgresql_insert if kind == "postgresql" else sqlite_insert


async def _schema_locked(conn: AsyncConnection) -> bool:
    """Take the schema lock for this transaction, if it is free. Polled rather than waited for: a session
    waiting on a lock inside a transaction would stall another's CREATE INDEX CONCURRENTLY (the checkpoint
    tables' setup), which waits for every open transaction: the two deadlock."""
    if conn.dialect.name != "postgresql":
        return True
    found = await conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    return bool(found.scalar())


async def _migrate(conn: AsyncConnection) -> None:
    """Bring the schema to SCHEMA_VERSION: run the steps the stored version lacks, create the tables that
    are missing, stamp it; refuse a database stamped newer than this code."""
    for store in STORES:  # their tables join `metadata` as they are defined
        importlib.import_module(store)
    stored = 0
    if await conn.run_sync(lambda sync: inspect(sync).has_table(schema_version.name)):
        stored = int((await conn.execute(select(func.max(schema_version.c.version)))).scalar() or 0)
    if stored > SCHEMA_VERSION:
        raise SchemaError(
            f"the database's schema is version {stored}, newer than this optiinfra's {SCHEMA_VERSION}: "
            "upgrade optiinfra before using it"
        )
    for version, _, steps in MIGRATIONS:  # before create_all, which would make a missing table whole
        if version > stored:
            for step in steps:
                await conn.run_sync(step.run)
    await conn.run_sync(metadata.create_all)
    now = datetime.now(UTC)
    stamps = [{"version": v, "applied_at": now} for v, _, _ in MIGRATIONS if v > stored]
    if stamps:
        stamp = _insert(conn.dialect.name)(schema_version).on_conflict_do_nothing(index_elements=["version"])
        await conn.execute(stamp, stamps)


def _sqlite_wal(connection: Any, _record: Any) -> None:
    """Several processes share one SQLite file (a workflow and its checkpoints, a CLI reading the audit):
    write-ahead logging lets readers go on while one writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a killed process (only a power cut may lose the last commits) and
    # spares an fsync per transaction.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
