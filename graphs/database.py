"""The service's database: workflow runs, the audit log and rollout claims, under one SQLAlchemy metadata.

One URL chooses the database for these tables and for LangGraph's checkpoints alike: `memory`,
`sqlite:///path` (the embedded default) or `postgresql://…` (several replicas on one database).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

DEFAULT_DATABASE_URL = "sqlite:///optiinfra.db"
# Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
_CHUNK = 500

metadata = MetaData()

workflows = Table(
    "optiinfra_workflows",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("requested_by", String(128), nullable=False),
    Column("scope", JSON, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("cloud", String(500)),  # the cloud URL it runs against, when it has one
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("report", JSON),
)

audit_log = Table(
    "optiinfra_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False, index=True),
    # What the entry is about, unique per workflow: a step re-run after a crash records nothing twice.
    Column("key", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("instance_id", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),  # the cloud's time
    Column("recorded_at", DateTime(timezone=True), nullable=False),  # the database's writer's time
    Column("detail", JSON, nullable=False),
    UniqueConstraint("workflow_id", "key", name="optiinfra_audit_once"),
)

# A rollout's full plan, written once: its checkpoints carry a summary and ids, not every change's details.
plans = Table(
    "optiinfra_plans",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("plan", JSON, nullable=False),
)

claims = Table(
    "optiinfra_claims",
    metadata,
    Column("instance_id", String(64), primary_key=True),
    Column("workflow_id", String(64), nullable=False, index=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)


def _as_utc(moment: datetime) -> datetime:
    """SQLite keeps no time zone: every time written here is UTC, so a naive one read back is too."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Times as the tables return them: SQLite drops the zone of the UTC times written, so they come back naive.
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]

AuditKind = Literal["plan", "review", "decision", "change", "rollback", "status"]


class AuditEntry(BaseModel):
    """One fact about a workflow: a review, a decision and who made it, a cloud change, a status."""

    workflow_id: str
    key: str
    kind: AuditKind
    actor: str = Field(description="An agent, a person, or 'optiinfra' for the workflow itself")
    instance_id: str | None = None
    at: UtcDatetime
    detail: dict[str, Any] = Field(default_factory=dict)


class WorkflowRun(BaseModel):
    workflow_id: str
    kind: str
    status: str
    requested_by: str
    scope: dict[str, Any]
    settings: dict[str, Any]
    cloud: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    report: dict[str, Any] | None = None


@dataclass(frozen=True)
class DatabaseUrl:
    """A user's database URL, and what it means to SQLAlchemy and to LangGraph's savers."""

    url: str
    kind: Literal["memory", "sqlite", "postgresql"]
    sqlalchemy: str
    target: str  # the SQLite file path or the PostgreSQL conninfo the checkpoint savers take

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        if url in ("memory", ":memory:"):
            return cls(url, "memory", "sqlite+aiosqlite://", ":memory:")
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            return cls(url, "sqlite", f"sqlite+aiosqlite:///{path}", path)
        for scheme in ("postgresql://", "postgres://"):
            if url.startswith(scheme):
                rest = url.removeprefix(scheme)
                return cls(url, "postgresql", f"postgresql+psycopg://{rest}", f"postgresql://{rest}")
        raise ValueError(f"unsupported database URL '{url}': use memory, sqlite:///PATH or postgresql://…")


class Database:
    """The tables above over an async engine; every write is its own short transaction."""

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
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        return cls(engine, parsed)

    async def close(self) -> None:
        await self.engine.dispose()

    # -- workflow runs ----------------------------------------------------------------------------------
    async def add_run(self, run: WorkflowRun) -> None:
        async with self._transaction() as conn:
            await conn.execute(self._insert_ignoring(workflows, ["workflow_id"]), [run.model_dump()])

    async def set_status(self, workflow_id: str, status: str, report: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
        if report is not None:
            values["report"] = report
        async with self._transaction() as conn:
            await conn.execute(update(workflows).where(workflows.c.workflow_id == workflow_id).values(values))

    async def run(self, workflow_id: str) -> WorkflowRun | None:
        async with self._transaction() as conn:
            row = (
                await conn.execute(select(workflows).where(workflows.c.workflow_id == workflow_id))
            ).first()
        return WorkflowRun.model_validate(row._asdict()) if row else None

    async def runs(self, status: str | None = None, kind: str | None = None) -> list[WorkflowRun]:
        query = select(workflows).order_by(workflows.c.created_at, workflows.c.workflow_id)
        if status is not None:
            query = query.where(workflows.c.status == status)
        if kind is not None:
            query = query.where(workflows.c.kind == kind)
        async with self._transaction() as conn:
            return [WorkflowRun.model_validate(r._asdict()) for r in await conn.execute(query)]

    # -- plans ------------------------------------------------------------------------------------------
    async def save_plan(self, workflow_id: str, plan: dict[str, Any]) -> None:
        """Store the plan (a re-planned workflow, after a crash, replaces it)."""
        insert = postgresql_insert if self.url.kind == "postgresql" else sqlite_insert
        statement = insert(plans).values(workflow_id=workflow_id, plan=plan)
        statement = statement.on_conflict_do_update(index_elements=["workflow_id"], set_={"plan": plan})
        async with self._transaction() as conn:
            await conn.execute(statement)

    async def plan(self, workflow_id: str) -> dict[str, Any] | None:
        async with self._transaction() as conn:
            row = (await conn.execute(select(plans.c.plan).where(plans.c.workflow_id == workflow_id))).first()
        return dict(row[0]) if row else None

    # -- the audit log ----------------------------------------------------------------------------------
    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries; one already recorded under its workflow and key is left as it was."""
        if not entries:
            return
        now = datetime.now(UTC)
        rows = [{**e.model_dump(mode="json"), "at": e.at, "recorded_at": now} for e in entries]
        statement = self._insert_ignoring(audit_log, ["workflow_id", "key"])
        async with self._transaction() as conn:
            for start in range(0, len(rows), _CHUNK):
                await conn.execute(statement, rows[start : start + _CHUNK])

    async def audit(self, workflow_id: str) -> list[AuditEntry]:
        query = select(audit_log).where(audit_log.c.workflow_id == workflow_id).order_by(audit_log.c.id)
        async with self._transaction() as conn:
            return [AuditEntry.model_validate(r._asdict()) for r in await conn.execute(query)]

    # -- rollout claims: an instance belongs to at most one active rollout ------------------------------
    async def claim(self, workflow_id: str, instance_ids: Iterable[str]) -> dict[str, str]:
        """Claim the instances for `workflow_id`; returns those another workflow holds, with its id."""
        ids = sorted(set(instance_ids))
        now = datetime.now(UTC)
        statement = self._insert_ignoring(claims, ["instance_id"])
        held: dict[str, str] = {}
        async with self._transaction() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = [{"instance_id": i, "workflow_id": workflow_id, "claimed_at": now} for i in chunk]
                await conn.execute(statement, rows)
                owners = await conn.execute(
                    select(claims.c.instance_id, claims.c.workflow_id).where(claims.c.instance_id.in_(chunk))
                )
                held.update({i: owner for i, owner in owners if owner != workflow_id})
        return held

    async def release(self, workflow_id: str, instance_ids: Iterable[str] | None = None) -> None:
        """Let go of the workflow's claims (all of them, or only `instance_ids`)."""
        statement = delete(claims).where(claims.c.workflow_id == workflow_id)
        async with self._transaction() as conn:
            if instance_ids is None:
                await conn.execute(statement)
                return
            ids = sorted(set(instance_ids))
            for start in range(0, len(ids), _CHUNK):
                await conn.execute(statement.where(claims.c.instance_id.in_(ids[start : start + _CHUNK])))

    def _insert_ignoring(self, table: Table, keys: list[str]) -> Any:
        """INSERT that skips rows whose `keys` already exist (both dialects say ON CONFLICT DO NOTHING)."""
        insert = postgresql_insert if self.url.kind == "postgresql" else sqlite_insert
        return insert(table).on_conflict_do_nothing(index_elements=keys)


def _sqlite_wal(connection: Any, _record: Any) -> None:
    """Several processes share one SQLite file (a workflow and its checkpoints, a CLI reading the audit):
    write-ahead logging lets readers go on while one writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a killed process (only a power cut may lose the last commits) and
    # spares an fsync per transaction.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
