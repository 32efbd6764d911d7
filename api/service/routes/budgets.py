"""/api/v1/budgets: budgets with their standing — what the scope has cost this period, the forecast for its
end, and the thresholds crossed (each new once per period, whichever replica or cron job checks first: that
check sends its alert and starts the budget's action)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.service.deps import FinOpsDep, Manager, Reader
from api.service.problems import Problem
from graphs.budget_store import BudgetError, StoredBudget
from graphs.finops import FinOps
from tools.analysis.budgets import Budget, BudgetStatus

router = APIRouter(prefix="/api/v1/budgets", tags=["budgets"])
Name = Annotated[str, Path(max_length=64)]


class BudgetOut(BaseModel):
    definition: StoredBudget
    status: BudgetStatus
    new: list[str] = Field(description="Thresholds this read found crossed for the first time this period")
    action_workflow_id: str | None = Field(None, description="The rollout this read's crossing started")
    action_error: str | None = None


async def _standing(finops: FinOps, stored: StoredBudget) -> BudgetOut:
    checked = (await finops.check_budgets([stored.budget.name]))[0]
    return BudgetOut(definition=stored, **checked.model_dump())


@router.get("", response_model=list[BudgetOut])
async def list_budgets(finops: FinOpsDep, _: Reader) -> list[BudgetOut]:
    """Every budget with its standing now."""
    return [await _standing(finops, s) for s in await finops.budgets.budgets()]


@router.post("", response_model=BudgetOut, status_code=201)
async def create_budget(body: Budget, finops: FinOpsDep, caller: Manager) -> BudgetOut:
    """Create a budget: `{"name", "amount", "period"?, "scope"?, "thresholds"?, "action"?}`; 409 if the name
    is taken."""
    try:
        stored = await finops.budgets.create(body, caller.name)
    except BudgetError as exc:
        raise Problem(409, str(exc)) from None
    return await _standing(finops, stored)


@router.get("/{name}", response_model=BudgetOut)
async def get_budget(name: Name, finops: FinOpsDep, _: Reader) -> BudgetOut:
    try:
        stored = await finops.budgets.get(name)
    except BudgetError as exc:
        raise Problem(404, str(exc)) from None
    return await _standing(finops, stored)


@router.delete("/{name}", status_code=204)
async def delete_budget(name: Name, finops: FinOpsDep, _: Manager) -> None:
    try:
        await finops.budgets.delete(name)
    except BudgetError as exc:
        raise Problem(404, str(exc)) from None
