"""/api/v1/budgets: budgets with their standing — what the scope has cost this period, the forecast for its
end, and the thresholds crossed (each new once per period, whichever replica or cron job checks first: that
check sends its alert and starts the budget's action)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from api.service.problems import Problem
from api.service.security import Caller, require
from graphs.budget_store import BudgetError, BudgetStore, StoredBudget
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


async def _standing(request: Request, stored: StoredBudget) -> BudgetOut:
    finops: FinOps = request.app.state.finops
    checked = (await finops.check_budgets([stored.budget.name]))[0]
    return BudgetOut(definition=stored, **checked.model_dump())


@router.get("", response_model=list[BudgetOut])
async def list_budgets(request: Request, _: Annotated[Caller, Depends(require("read"))]) -> list[BudgetOut]:
    """Every budget with its standing now."""
    stored = await BudgetStore(request.app.state.rollouts.db).budgets()
    return [await _standing(request, s) for s in stored]


@router.post("", response_model=BudgetOut, status_code=201)
async def create_budget(
    request: Request, body: Budget, caller: Annotated[Caller, Depends(require("manage"))]
) -> BudgetOut:
    """Create a budget: `{"name", "amount", "period"?, "scope"?, "thresholds"?}`; 409 if the name is taken."""
    try:
        stored = await BudgetStore(request.app.state.rollouts.db).create(body, caller.name)
    except BudgetError as exc:
        raise Problem(409, str(exc)) from None
    return await _standing(request, stored)


@router.get("/{name}", response_model=BudgetOut)
async def get_budget(
    request: Request, name: Name, _: Annotated[Caller, Depends(require("read"))]
) -> BudgetOut:
    try:
        stored = await BudgetStore(request.app.state.rollouts.db).get(name)
    except BudgetError as exc:
        raise Problem(404, str(exc)) from None
    return await _standing(request, stored)


@router.delete("/{name}", status_code=204)
async def delete_budget(
    request: Request, name: Name, _: Annotated[Caller, Depends(require("manage"))]
) -> None:
    try:
        await BudgetStore(request.app.state.rollouts.db).delete(name)
    except BudgetError as exc:
        raise Problem(404, str(exc)) from None
