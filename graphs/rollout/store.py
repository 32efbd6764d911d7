"""What a rollout keeps besides its checkpoints: its run, its full plan, the audit log, the instances it
claims, the decision it takes, the sign-offs people gave towards it, a request to cancel it, and its progress
events — each table queried here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy import update as sql_update

from graphs.database import CHUNK, Database, UtcDatetime, metadata

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
# A workflow's progress, in order, for whoever follows it from any replica.
events = Table(
    "optiinfra_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", JSON, nullable=False),
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
# The approvals people gave a request that needs several: one per person and workflow. When they add up to
# what the request needs, the decision above is taken from them.
signoffs = Table(
    "optiinfra_signoffs",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("by", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("instance_ids", JSON),  # None: all the request holds
    Column("comment", String(2000)),
    Column("at", DateTime(timezone=True), nullable=False),
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


class SignOff(BaseModel):
    """One person's approval of a request that needs several."""

    by: str
    role: str
    instance_ids: list[str] | None = Field(None, description="Only these; None: all the request holds")
    comment: str | None = None
    at: UtcDatetime


class RolloutStore:
    """The rollout tables on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- workflow runs ----------------------------------------------------------------------------------
    async def add_run(self, run: WorkflowRun) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(self.db.insert_ignoring(workflows, ["workflow_id"]), [run.model_dump()])

    async def set_status(self, workflow_id: str, status: str, report: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
        if report is not None:
            values["report"] = report
        async with self.db.transaction() as conn:
            await conn.execute(
                sql_update(workflows).where(workflows.c.workflow_id == workflow_id).values(values)
            )

    async def run(self, workflow_id: str) -> WorkflowRun | None:
        async with self.db.transaction() as conn:
            row = (
                await conn.execute(select(workflows).where(workflows.c.workflow_id == workflow_id))
            ).first()
        return WorkflowRun.model_validate(row._asdict()) if row else None

    async def runs(
        self, status: str | None = None, kind: str | None = None, since: datetime | None = None
    ) -> list[WorkflowRun]:
        """Oldest first; `since`: only those updated since then."""
        query = select(workflows).order_by(workflows.c.created_at, workflows.c.workflow_id)
        if status is not None:
            query = query.where(workflows.c.status == status)
        if kind is not None:
            query = query.where(workflows.c.kind == kind)
        if since is not None:
            query = query.where(workflows.c.updated_at >= since)
        async with self.db.transaction() as conn:
            return [WorkflowRun.model_validate(r._asdict()) for r in await conn.execute(query)]

    # -- plans ------------------------------------------------------------------------------------------
    async def save_plan(self, workflow_id: str, plan: dict[str, Any]) -> None:
        """Store the plan (a re-planned workflow, after a crash, replaces it)."""
        statement = self.db.insert(plans).values(workflow_id=workflow_id, plan=plan)
        statement = statement.on_conflict_do_update(index_elements=["workflow_id"], set_={"plan": plan})
        async with self.db.transaction() as conn:
            await conn.execute(statement)

    async def plan(self, workflow_id: str) -> dict[str, Any] | None:
        async with self.db.transaction() as conn:
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
        insert = self.db.insert(audit_log)
        replaced = ("kind", "actor", "instance_id", "at", "recorded_at", "detail")
        statement = insert.on_conflict_do_update(
            index_elements=["workflow_id", "key"], set_={c: insert.excluded[c] for c in replaced}
        )
        async with self.db.transaction() as conn:
            for start in range(0, len(rows), CHUNK):
                await conn.execute(statement, rows[start : start + CHUNK])

    async def record_once(self, entry: AuditEntry) -> bool:
        """Append the entry unless its key is recorded already: True when this call recorded it (of several
        replicas noticing the same moment, exactly one does)."""
        row = {**entry.model_dump(mode="json"), "at": entry.at, "recorded_at": datetime.now(UTC)}
        insert = self.db.insert_ignoring(audit_log, ["workflow_id", "key"]).values(row)
        async with self.db.transaction() as conn:
            return (await conn.execute(insert.returning(audit_log.c.id))).first() is not None

    async def audit(self, workflow_id: str) -> list[AuditEntry]:
        query = select(audit_log).where(audit_log.c.workflow_id == workflow_id).order_by(audit_log.c.id)
        async with self.db.transaction() as conn:
            return [AuditEntry.model_validate(r._asdict()) for r in await conn.execute(query)]

    # -- rollout claims: an instance belongs to at most one active rollout ------------------------------
    async def claim(self, workflow_id: str, instance_ids: Iterable[str]) -> dict[str, str]:
        """Claim the instances for `workflow_id`; returns those another workflow holds, with its id."""
        ids = sorted(set(instance_ids))
        now = datetime.now(UTC)
        statement = self.db.insert_ignoring(claims, ["instance_id"])
        held: dict[str, str] = {}
        async with self.db.transaction() as conn:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
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
        async with self.db.transaction() as conn:
            if instance_ids is None:
                await conn.execute(statement)
                return
            ids = sorted(set(instance_ids))
            for start in range(0, len(ids), CHUNK):
                await conn.execute(statement.where(claims.c.instance_id.in_(ids[start : start + CHUNK])))

    # -- progress events --------------------------------------------------------------------------------
    async def add_events(self, workflow_id: str, found: Sequence[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        async with self.db.transaction() as conn:
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
        async with self.db.transaction() as conn:
            return [(int(i), dict(e)) for i, e in await conn.execute(query)]

    # -- decisions: the first one taken is the one the workflow takes -----------------------------------
    async def take_decision(self, workflow_id: str, decision: dict[str, Any]) -> bool:
        """Store `decision` as the workflow's, unless it has one already: True when this one went in."""
        row = {"workflow_id": workflow_id, "decision": decision, "decided_at": datetime.now(UTC)}
        insert = self.db.insert_ignoring(decisions, ["workflow_id"]).values(row)
        async with self.db.transaction() as conn:
            return (await conn.execute(insert.returning(decisions.c.workflow_id))).first() is not None

    async def decision(self, workflow_id: str) -> dict[str, Any] | None:
        query = select(decisions.c.decision).where(decisions.c.workflow_id == workflow_id)
        async with self.db.transaction() as conn:
            row = (await conn.execute(query)).first()
        return dict(row[0]) if row else None

    # -- sign-offs: approvals one by one, towards a request that needs several ---------------------------
    async def sign_off(self, workflow_id: str, given: SignOff) -> list[SignOff]:
        """Add a person's approval (their first stands: approving twice counts once); returns every
        sign-off the workflow has, oldest first."""
        row = {"workflow_id": workflow_id, **given.model_dump()}
        async with self.db.transaction() as conn:
            await conn.execute(self.db.insert_ignoring(signoffs, ["workflow_id", "by"]).values(row))
        return await self.signoffs(workflow_id)

    async def signoffs(self, workflow_id: str) -> list[SignOff]:
        query = select(signoffs).where(signoffs.c.workflow_id == workflow_id).order_by(signoffs.c.at)
        async with self.db.transaction() as conn:
            return [SignOff.model_validate(r._asdict()) for r in await conn.execute(query)]

    # -- cancellations ------------------------------------------------------------------------------------
    async def request_cancel(self, workflow_id: str, by: str, rollback: bool) -> bool:
        """Ask the workflow to stop at its next step boundary; False when someone asked already."""
        row = {"workflow_id": workflow_id, "by": by, "rollback": rollback, "requested_at": datetime.now(UTC)}
        first = self.db.insert_ignoring(cancellations, ["workflow_id"]).values(row)
        async with self.db.transaction() as conn:
            return (await conn.execute(first.returning(cancellations.c.workflow_id))).first() is not None

    async def cancellation(self, workflow_id: str) -> dict[str, Any] | None:
        """Who asked the workflow to stop, and whether to roll back (None: nobody asked)."""
        query = select(cancellations.c.by, cancellations.c.rollback).where(
            cancellations.c.workflow_id == workflow_id
        )
        async with self.db.transaction() as conn:
            row = (await conn.execute(query)).first()
        return {"by": row[0], "rollback": bool(row[1])} if row else None
