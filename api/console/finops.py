"""Budgets, cost anomalies and notification channels in the console: each budget's standing and the rollouts
its action started; the anomalies kept, to acknowledge or resolve; the channels and the delivery log. What
an operator may change here is what the API lets them change, by the same rules."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.access import MemoDep, VisitorDep, permitted
from api.console.rendering import page
from api.console.scope import Filters, ScopeError
from api.console.sessions import form
from api.service.deps import NotifierDep
from graphs.anomaly_store import FEEDBACK, STATUSES, AnomalyNotFoundError, AnomalyStore
from graphs.budget_store import BudgetError, BudgetStore
from graphs.notification_store import ChannelError
from tools.analysis.budgets import Budget, Threshold

router = APIRouter(include_in_schema=False)


@router.get("/budgets", response_class=HTMLResponse)
async def budgets(request: Request, who: VisitorDep, memo: MemoDep) -> HTMLResponse:
    return await _budgets(request, who, memo)


async def _budgets(
    request: Request, who: VisitorDep, memo: MemoDep, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    store = BudgetStore(request.app.state.rollouts.db)
    stored = await store.budgets()
    standing = await memo.budget_statuses(s.budget for s in stored)
    actions = {s.budget.name: await store.actions(s.budget.name) for s in stored}
    return page(request, "budgets.html", who, status_code=status_code, title="Budgets", error=error,
                rows=list(zip(stored, standing, strict=True)), actions=actions)  # fmt: skip


@router.post("/budgets")
async def create_budget(request: Request, who: VisitorDep, memo: MemoDep) -> Response:
    posted = await form(request, who)
    permitted(who, "manage")
    filters = Filters.posted(posted)
    try:
        actual = [Threshold(percent=float(p)) for p in posted.get("thresholds", "50,80,100").split(",") if p]
        forecast = [
            Threshold(percent=float(p), basis="forecast") for p in posted.get("forecast").split(",") if p
        ]
        budget = Budget(name=posted.get("name"), amount=float(posted.get("amount") or 0),
                        period=posted.get("period", "month"), scope=filters.scope(),
                        thresholds=actual + forecast)  # fmt: skip
        await BudgetStore(request.app.state.rollouts.db).create(budget, who.caller.name)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "budget"
        return await _budgets(request, who, memo, f"{where}: {first['msg']}", 422)
    except (ValueError, ScopeError) as exc:
        return await _budgets(request, who, memo, f"Not a budget: {exc}", 422)
    except BudgetError as exc:
        return await _budgets(request, who, memo, str(exc), 409)
    return RedirectResponse(f"/budgets#{budget.name}", status_code=303)


@router.post("/budgets/{name}/delete")
async def delete_budget(request: Request, name: str, who: VisitorDep, memo: MemoDep) -> Response:
    await form(request, who)
    permitted(who, "manage")
    try:
        await BudgetStore(request.app.state.rollouts.db).delete(name)
    except BudgetError as exc:
        return await _budgets(request, who, memo, str(exc), 404)
    return RedirectResponse("/budgets", status_code=303)


@router.get("/anomalies", response_class=HTMLResponse)
async def anomalies(
    request: Request, who: VisitorDep, status: Annotated[str, Query(max_length=16)] = "open"
) -> HTMLResponse:
    chosen = status if status in STATUSES else None
    found = await AnomalyStore(request.app.state.rollouts.db).anomalies(status=chosen)
    return page(request, "anomalies.html", who, title="Cost anomalies", found=found, status=status,
                statuses=STATUSES, feedback=FEEDBACK)  # fmt: skip


@router.post("/anomalies/update")
async def update_anomaly(request: Request, who: VisitorDep) -> Response:
    posted = await form(request, who)
    permitted(who, "manage")
    new_status = posted.get("status")
    feedback = posted.get("feedback") or None
    if new_status not in STATUSES or (feedback is not None and feedback not in FEEDBACK):
        return page(request, "refused.html", who, status_code=422, title="Not changed",
                    message=f"a status is one of {', '.join(STATUSES)}")  # fmt: skip
    try:
        await AnomalyStore(request.app.state.rollouts.db).update(
            posted.get("key"),
            who.caller.name,
            new_status,
            feedback,
        )
    except AnomalyNotFoundError as exc:
        return page(request, "refused.html", who, status_code=404, title="No such anomaly", message=str(exc))
    return RedirectResponse(f"/anomalies?status={new_status}", status_code=303)


@router.get("/notifications", response_class=HTMLResponse)
async def notifications(
    request: Request, who: VisitorDep, notifier: NotifierDep, tested: str = ""
) -> HTMLResponse:
    channels = [s.channel.shown() for s in await notifier.store.channels()]
    log = await notifier.store.deliveries(limit=50)
    return page(request, "notifications.html", who, title="Notifications", channels=channels, log=log,
                tested=tested)  # fmt: skip


@router.post("/notifications/{name}/test")
async def test_channel(request: Request, name: str, who: VisitorDep, notifier: NotifierDep) -> Response:
    await form(request, who)
    permitted(who, "manage")
    try:
        sent = await notifier.test(name, who.caller.name)
    except ChannelError as exc:
        return page(request, "refused.html", who, status_code=404, title="No such channel", message=str(exc))
    said = "sent" if sent.status == "sent" else f"not delivered: {sent.last_error}"
    return RedirectResponse(f"/notifications?{urlencode({'tested': f'{name}: {said}'})}", status_code=303)
