"""Budgets kept: their definitions, and the thresholds each crossed in each period — once.

A check (`optiinfra budget status`, the service's route) computes every budget's status from the bill; a
threshold it finds crossed is recorded with the period it was crossed in, and only the check that records
it first calls it new, however many replicas or cron jobs check: one alert per threshold per period.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Date, DateTime, String, Table, delete, select, update

from graphs.database import Database, UtcDatetime, metadata
from tools.analysis.budgets import Budget, BudgetStatus

budgets = Table(
    "optiinfra_budgets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("definition", JSON, nullable=False),  # tools.analysis.budgets.Budget
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
# Each threshold a budget crossed in each period, once; and the rollout its action started, if it has one.
budget_alerts = Table(
    "optiinfra_budget_alerts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("threshold", String(40), primary_key=True),  # basis:percent, e.g. forecast:100
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("figure", JSON, nullable=False),  # the status that crossed it
    Column("action_workflow_id", String(64)),  # schema version 6
)


class BudgetError(LookupError):
    """No budget of that name, or one of that name already."""


class StoredBudget(BaseModel):
    budget: Budget
    created_by: str
    created_at: UtcDatetime


class BudgetStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, budget: Budget, by: str) -> StoredBudget:
        row = {"name": budget.name, "definition": budget.model_dump(mode="json"), "created_by": by,
               "created_at": datetime.now(UTC)}  # fmt: skip
        async with self.db.transaction() as conn:
            insert = self.db.insert_ignoring(budgets, ["name"]).values(row).returning(budgets.c.name)
            if (await conn.execute(insert)).first() is None:
                raise BudgetError(f"a budget named '{budget.name}' exists already (delete it first)")
        return StoredBudget(budget=budget, created_by=by, created_at=row["created_at"])

    async def budgets(self) -> list[StoredBudget]:
        async with self.db.transaction() as conn:
            rows = await conn.execute(select(budgets).order_by(budgets.c.name))
            return [_stored(r._asdict()) for r in rows]

    async def get(self, name: str) -> StoredBudget:
        async with self.db.transaction() as conn:
            row = (await conn.execute(select(budgets).where(budgets.c.name == name))).first()
        if row is None:
            raise BudgetError(f"no budget named '{name}' (see `optiinfra budget list`)")
        return _stored(row._asdict())

    async def delete(self, name: str) -> None:
        async with self.db.transaction() as conn:
            gone = await conn.execute(delete(budgets).where(budgets.c.name == name))
            await conn.execute(delete(budget_alerts).where(budget_alerts.c.name == name))
        if not gone.rowcount:
            raise BudgetError(f"no budget named '{name}' (see `optiinfra budget list`)")

    async def record(self, found: BudgetStatus) -> list[str]:
        """Keep the thresholds this status crossed; returns those crossed for the first time this period."""
        new = []
        async with self.db.transaction() as conn:
            for fired in found.fired:
                row = {"name": found.name, "period_start": found.period_start, "threshold": fired.key,
                       "fired_at": datetime.now(UTC), "figure": found.model_dump(mode="json")}  # fmt: skip
                insert = self.db.insert_ignoring(budget_alerts, ["name", "period_start", "threshold"])
                if (await conn.execute(insert.values(row).returning(budget_alerts.c.name))).first():
                    new.append(fired.key)
        return new

    async def set_action(self, found: BudgetStatus, threshold: str, workflow_id: str) -> None:
        """Note the rollout a threshold's action started (on the threshold's alert of that period)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                update(budget_alerts)
                .where(budget_alerts.c.name == found.name, budget_alerts.c.period_start == found.period_start)
                .where(budget_alerts.c.threshold == threshold)
                .values(action_workflow_id=workflow_id)
            )

    async def actions(self, name: str) -> dict[str, str]:
        """The rollouts the budget's action started, by period and threshold (`2026-06-01 actual:100`)."""
        query = select(budget_alerts).where(
            budget_alerts.c.name == name, budget_alerts.c.action_workflow_id.is_not(None)
        )
        async with self.db.transaction() as conn:
            rows = await conn.execute(query)
            return {f"{r.period_start.isoformat()} {r.threshold}": r.action_workflow_id for r in rows}


def _stored(row: dict[str, object]) -> StoredBudget:
    return StoredBudget(budget=Budget.model_validate(row["definition"]), created_by=str(row["created_by"]),
                        created_at=row["created_at"])  # fmt: skip
