"""The overview: this period's spend against the last, the run rate, the forecast for the period's end with
its range, the trend, the breakdowns and the machines that cost most; budgets, open anomalies and the
savings on offer beside them."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console import charts
from api.console.access import MemoDep, VisitorDep
from api.console.rendering import page
from graphs.anomaly_store import AnomalyStore
from graphs.budget_store import BudgetStore
from tools.analysis.outlook import BREAKDOWNS, outlook
from tools.analysis.recommendation import KINDS
from tools.errors import InstanceNotFoundError
from tools.models import Instance, InstanceFilter
from tools.provider import CloudProvider

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request, who: VisitorDep, memo: MemoDep, period: Literal["month", "quarter", "year"] = "month"
) -> HTMLResponse:
    cloud: CloudProvider = request.app.state.cloud
    db = request.app.state.rollouts.db
    figures = await memo.get(("outlook", period), lambda: outlook(cloud, period=period))
    ledger = await memo.ledger(InstanceFilter(), KINDS)
    stored = await BudgetStore(db).budgets()
    budgets = await memo.budget_statuses(s.budget for s in stored)
    anomalies = await AnomalyStore(db).anomalies(status="open", kind="spike")
    breakdowns = [
        (BREAKDOWNS[d], d, groups, charts.shares(groups, "USD")) for d, groups in figures.breakdowns.items()
    ]
    top = [g.key for g in figures.top_instances]
    names = {i.id: i.name for i in await asyncio.to_thread(_named, cloud, top)}
    return page(
        request, "overview.html", who, title="Overview", figures=figures, period=period,
        trend=charts.trend(figures.days, figures.daily_usd), breakdowns=breakdowns, names=names,
        budgets=budgets, anomalies=anomalies[:5], savings=ledger.summary, analysed=ledger.instances_analysed,
    )  # fmt: skip


def _named(cloud: CloudProvider, ids: list[str]) -> list[Instance]:
    """The top machines as the inventory knows them (a decommissioned one is on the bill, not listed)."""
    found = []
    for instance_id in ids:
        try:
            found.append(cloud.get_instance(instance_id))
        except InstanceNotFoundError:  # gone from the inventory: shown by its id
            continue
    return found
