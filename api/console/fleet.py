"""Fleet: the instances, filtered and paged by the cloud (a 10,000-machine fleet is read a page at a time),
and an instance's page with its utilisation over the last week and what it cost day by day."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.console import charts
from api.console.access import VisitorDep
from api.console.rendering import page
from api.console.scope import FiltersDep, ScopeError
from tools.errors import InstanceNotFoundError
from tools.models import Instance, InstanceFilter, InstancePage
from tools.provider import CloudProvider

router = APIRouter(include_in_schema=False)
PAGE = 50
WEEK_HOURS = 7 * 24
COST_DAYS = 14


@router.get("/fleet", response_class=HTMLResponse)
async def fleet(
    request: Request,
    who: VisitorDep,
    filters: FiltersDep,
    state: Literal["", "pending", "running", "stopping", "stopped", "shutting-down", "terminated"] = "",
    pricing_model: Literal["", "on-demand", "spot", "reserved"] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    error, found = None, InstancePage(total=0, instances=[])
    try:
        chosen = {"state": state or None, "pricing_model": pricing_model or None}
        scope = filters.scope().model_copy(update=chosen)
        found = await request.app.state.cloud.quick("page_instances", scope, offset, PAGE)
    except ScopeError as exc:
        error = str(exc)
    template = "_fleet.html" if request.headers.get("hx-target") == "results" else "fleet.html"
    return page(request, template, who, status_code=422 if error else 200, title="Fleet", error=error,
                filters=filters, state=state, pricing_model=pricing_model, found=found, offset=offset,
                size=PAGE)  # fmt: skip


@router.get("/fleet/{instance_id}", response_class=HTMLResponse)
async def instance(request: Request, instance_id: str, who: VisitorDep) -> HTMLResponse:
    cloud: CloudProvider = request.app.state.cloud
    try:
        machine = await asyncio.to_thread(cloud.get_instance, instance_id)
    except InstanceNotFoundError as exc:
        return page(request, "refused.html", who, status_code=404, title="No such instance",
                    message=exc.message)  # fmt: skip
    metrics = await asyncio.to_thread(cloud.metrics, instance_id, WEEK_HOURS, 3600)
    hours = [datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:00") for t in metrics.timestamps]
    used = {"CPU %": _rounded(metrics.cpu_pct), "memory %": _rounded(metrics.memory_pct)}
    usage = charts.series(hours, used, "%")
    network = charts.series(hours, {"network Mbit/s": _rounded(metrics.network_mbps)}, "Mbit/s")
    days, amounts = await asyncio.to_thread(_daily_cost, cloud, machine)
    return page(request, "instance.html", who, title=machine.name, machine=machine, usage=usage,
                network=network, running=len(hours), cost=charts.trend(days, amounts, "USD a day"),
                days=days, amounts=amounts)  # fmt: skip


def _rounded(values: Iterable[float]) -> list[float]:
    return [round(float(v), 2) for v in values]


def _daily_cost(cloud: CloudProvider, machine: Instance) -> tuple[list[str], list[float]]:
    """What the machine cost each of the last whole days: the bill of its part of the fleet (its
    application, or its region), per instance and day, its own row."""
    near = InstanceFilter(provider=machine.provider, region=machine.region, application=machine.application)
    midnight = cloud.now().replace(hour=0, minute=0, second=0, microsecond=0)
    report = cloud.costs("instance", COST_DAYS, near, midnight, daily=True)
    mine = next((g for g in report.groups if g.key == machine.id), None)
    days = [d.isoformat() for d in report.days or []]
    return days, [round(v, 2) for v in (mine.daily or [])] if mine else [0.0] * len(days)
