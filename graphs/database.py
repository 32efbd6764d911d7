"""The service's database: workflow runs, the audit log, rollout claims, API keys, progress events,
workflow leases, cost anomalies and budgets, under one SQLAlchemy metadata (the queries of the last two
are `graphs.anomaly_store`'s and `graphs.budget_store`'s).

One URL chooses the database for these tables and for LangGraph's checkpoints alike: `memory`,
`sqlite:///path` (the embedded default) or `postgresql://…` (several replicas on one database).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from graphs.database_url import DatabaseUrl
from graphs.rollout.authority import Role

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
    # What the entry is about, unique per workflow: a step re-run after a crash records its outcome once.
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


# Who may use the HTTP service: a key's name and role, and only a hash of the key itself.
api_keys = Table(
    "optiinfra_api_keys",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
# A workflow's progress, in order, for whoever follows it from any replica.
events = Table(
    "optiinfra_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", JSON, nullable=False),
)
# Which replica drives a workflow, until when: a replica that dies stops renewing, and another takes over.
leases = Table(
    "optiinfra_leases",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
# The one decision a workflow's approval takes: the first to go in wins, whichever replica or interface sent
# it, and a resumed workflow applies the one stored (a crash between deciding and driving loses nothing).
decisions = Table(
    "optiinfra_decisions",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("decision", JSON, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
# A request to stop a workflow at its next step boundary (rolling back what it changed, or keeping it).
cancellations = Table(
    "optiinfra_cancellations",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("by", String(128), nullable=False),
    Column("rollback", Boolean, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)
# Cost anomalies as the detector found them, with what people said of them (graphs.anomaly_store).
anomalies = Table(
    "optiinfra_anomalies",
    metadata,
    Column("key", String(400), primary_key=True),  # dimension=value@first day: the same anomaly each run
    Column("dimension", String(64), nullable=False),
    Column("value", String(300), nullable=False),
    Column("kind", String(16), nullable=False),  # spike | new_spend
    Column("first_day", Date, nullable=False, index=True),
    Column("last_day", Date, nullable=False),
    Column("finding", JSON, nullable=False),  # the FoundAnomaly: figures, severity, root cause
    Column("status", String(16), nullable=False, index=True),  # open | acknowledged | resolved
    Column("feedback", String(32)),  # not_an_anomaly | expected | real
    Column("found_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False),
)
# Budgets (graphs.budget_store): each one's definition, and each threshold it crossed in each period, once.
budgets = Table(
    "optiinfra_budgets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("definition", JSON, nullable=False),  # tools.analysis.budgets.Budget
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
budget_alerts = Table(
    "optiinfra_budget_alerts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("threshold", String(40), primary_key=True),  # basis:percent, e.g. forecast:100
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("figure", JSON, nullable=False),  # the status that crossed it
)
schema_version = Table(
    "optiinfra_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)
# What each version brought: steps run in order, once, on a database stamped older (forward only). A step
# that only adds tables has nothing to run (`create_all` adds them); one that changes a table adds its SQL.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "workflow runs, the audit log, plans, claims", ()),
    (2, "API keys, progress events, leases", ()),
    (3, "decisions: one per workflow, compare-and-set", ()),
    (4, "cancellations", ()),
    (5, "cost anomalies, budgets and the thresholds they crossed", ()),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
# PostgreSQL advisory lock held while a process creates or migrates the schema: replicas starting together
# on a fresh database take turns instead of racing each other's CREATE TABLE (a unique violation).
SCHEMA_LOCK = 0x0F71_1AF0


SCHEMA_LOCK_POLL_SECONDS = 0.05


async def _schema_locked(conn: AsyncConnection) -> bool:
    """Take the schema lock for this transaction, if it is free. Polled rather than waited for: a session
    waiting on a lock inside a transaction would stall another's CREATE INDEX CONCURRENTLY (the checkpoint
    tables' setup), which waits for every open transaction: the two deadlock."""
    if conn.dialect.name != "postgresql":
        return True
    found = await conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    return bool(found.scalar())


class SchemaError(RuntimeError):
    """The database's schema is newer than this code knows: running it would misread or corrupt it."""


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


class ApiKey(BaseModel):
    name: str
    role: Role
    key_hash: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


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

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One short transaction, for the stores that keep their tables' queries apart (anomaly_store)."""
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

    # -- workflow runs ----------------------------------------------------------------------------------
    async def add_run(self, run: WorkflowRun) -> None:
        async with self._transaction() as conn:
            await conn.execute(self.insert_ignoring(workflows, ["workflow_id"]), [run.model_dump()])

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
        """Append entries; one already recorded under its workflow and key is replaced: a step re-run (after
        a crash, or a failure a resume retries) records its final outcome once, not its first."""
        if not entries:
            return
        now = datetime.now(UTC)
        rows = [{**e.model_dump(mode="json"), "at": e.at, "recorded_at": now} for e in entries]
        insert = _insert(self.url.kind)(audit_log)
        replaced = ("kind", "actor", "instance_id", "at", "recorded_at", "detail")
        statement = insert.on_conflict_do_update(
            index_elements=["workflow_id", "key"], set_={c: insert.excluded[c] for c in replaced}
        )
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
        statement = self.insert_ignoring(claims, ["instance_id"])
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

    # -- API keys ---------------------------------------------------------------------------------------
    async def add_key(self, key: ApiKey) -> bool:
        """Store a key; False when its name is taken."""
        async with self._transaction() as conn:
            insert = (
                self.insert_ignoring(api_keys, ["name"]).values(key.model_dump()).returning(api_keys.c.name)
            )
            return (await conn.execute(insert)).first() is not None

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self._transaction() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))).first()
        return ApiKey.model_validate(row._asdict()) if row else None

    async def keys(self) -> list[ApiKey]:
        async with self._transaction() as conn:
            rows = await conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.name))
            return [ApiKey.model_validate(r._asdict()) for r in rows]

    async def revoke_key(self, name: str) -> bool:
        """Revoke the key called `name`; False when there is no such key still in use."""
        statement = (
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        async with self._transaction() as conn:
            return (await conn.execute(statement)).rowcount == 1

    # -- progress events --------------------------------------------------------------------------------
    async def add_events(self, workflow_id: str, found: Sequence[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        async with self._transaction() as conn:
            await conn.execute(
                events.insert(), [{"workflow_id": workflow_id, "at": now, "event": e} for e in found]
            )

    async def events(self, workflow_id: str, after: int = 0) -> list[tuple[int, dict[str, Any]]]:
        """The workflow's events after the one numbered `after`, oldest first, with their numbers."""
        query = (
            select(events.c.id, events.c.event)
            .where(events.c.workflow_id == workflow_id, events.c.id > after)
            .order_by(events.c.id)
        )
        async with self._transaction() as conn:
            return [(int(i), dict(e)) for i, e in await conn.execute(query)]

    # -- leases: one replica drives a workflow at a time --------------------------------------------------
    async def acquire_lease(self, workflow_id: str, owner: str, seconds: float) -> bool:
        """Take (or renew) the workflow's lease for `seconds`; False while another owner's is still valid."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        row = {"workflow_id": workflow_id, "owner": owner, "expires_at": until}
        async with self._transaction() as conn:
            # RETURNING says whether the row went in: psycopg reports no rowcount (-1) for these inserts.
            insert = self.insert_ignoring(leases, ["workflow_id"]).values(row).returning(leases.c.workflow_id)
            if (await conn.execute(insert)).first() is not None:
                return True
            taken = await conn.execute(
                update(leases)
                .where(leases.c.workflow_id == workflow_id)
                .where((leases.c.owner == owner) | (leases.c.expires_at < now))
                .values(owner=owner, expires_at=until)
            )
            return taken.rowcount == 1

    async def release_lease(self, workflow_id: str, owner: str) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                delete(leases).where(leases.c.workflow_id == workflow_id, leases.c.owner == owner)
            )

    # -- decisions: the first one sent to a workflow is the one it takes ---------------------------------
    async def take_decision(self, workflow_id: str, decision: dict[str, Any]) -> bool:
        """Store `decision` as the workflow's, unless it has one already: True when this one went in."""
        row = {"workflow_id": workflow_id, "decision": decision, "decided_at": datetime.now(UTC)}
        async with self._transaction() as conn:
            insert = (
                self.insert_ignoring(decisions, ["workflow_id"])
                .values(row)
                .returning(decisions.c.workflow_id)
            )
            return (await conn.execute(insert)).first() is not None

    async def decision(self, workflow_id: str) -> dict[str, Any] | None:
        async with self._transaction() as conn:
            row = (
                await conn.execute(select(decisions.c.decision).where(decisions.c.workflow_id == workflow_id))
            ).first()
        return dict(row[0]) if row else None

    # -- cancellations ------------------------------------------------------------------------------------
    async def request_cancel(self, workflow_id: str, by: str, rollback: bool) -> bool:
        """Ask the workflow to stop at its next step boundary; False when someone asked already."""
        row = {"workflow_id": workflow_id, "by": by, "rollback": rollback, "requested_at": datetime.now(UTC)}
        async with self._transaction() as conn:
            first = self.insert_ignoring(cancellations, ["workflow_id"]).values(row)
            return (await conn.execute(first.returning(cancellations.c.workflow_id))).first() is not None

    async def cancellation(self, workflow_id: str) -> dict[str, Any] | None:
        """Who asked the workflow to stop, and whether to roll back (None: nobody asked)."""
        query = select(cancellations.c.by, cancellations.c.rollback).where(
            cancellations.c.workflow_id == workflow_id
        )
        async with self._transaction() as conn:
            row = (await conn.execute(query)).first()
        return {"by": row[0], "rollback": bool(row[1])} if row else None

    def insert_ignoring(self, table: Table, keys: list[str]) -> Any:
        """INSERT that skips rows whose `keys` already exist (both dialects say ON CONFLICT DO NOTHING)."""
        return _insert(self.url.kind)(table).on_conflict_do_nothing(index_elements=keys)


def _insert(kind: str) -> Any:
    return postgresql_insert if kind == "postgresql" else sqlite_insert


async def _migrate(conn: AsyncConnection) -> None:
    """Bring the schema to SCHEMA_VERSION: create what is missing, run the steps the stored version lacks,
    stamp it; refuse a database stamped newer than this code."""
    await conn.run_sync(metadata.create_all)
    stored = int((await conn.execute(select(func.max(schema_version.c.version)))).scalar() or 0)
    if stored > SCHEMA_VERSION:
        raise SchemaError(
            f"the database's schema is version {stored}, newer than this optiinfra's {SCHEMA_VERSION}: "
            "upgrade optiinfra before using it"
        )
    kind = conn.dialect.name
    for version, _, statements in MIGRATIONS:
        if version <= stored:
            continue
        for statement in statements:
            await conn.execute(text(statement))
        row = {"version": version, "applied_at": datetime.now(UTC)}
        await conn.execute(
            _insert(kind)(schema_version).on_conflict_do_nothing(index_elements=["version"]), [row]
        )


def _sqlite_wal(connection: Any, _record: Any) -> None:
    """Several processes share one SQLite file (a workflow and its checkpoints, a CLI reading the audit):
    write-ahead logging lets readers go on while one writes."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a killed process (only a power cut may lose the last commits) and
    # spares an fsync per transaction.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
