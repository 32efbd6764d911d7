"""Recommendations: the ledger's opportunities — the same list and totals as `optiinfra recommend` and
GET /api/v1/recommendations for the same scope — filtered, sorted and paged; an operator starts a rollout
for what is shown (or the rows ticked) from here."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.console.access import MemoDep, VisitorDep
from api.console.rendering import page
from api.console.scope import FiltersDep, ScopeError
from graphs.rollout.kinds import KINDS
from tools.analysis.ledger import Ledger
from tools.analysis.recommendation import KINDS as RECOMMENDATION_KINDS
from tools.analysis.recommendation import Kind, Recommendation

router = APIRouter(include_in_schema=False)
PAGE = 50
Sort = Literal["priority", "savings", "confidence", "risk", "kind"]
_RISK = {"low": 0, "medium": 1, "high": 2}
_ORDER = {
    "priority": lambda r: (-r.priority, r.instance_id),
    "savings": lambda r: (-r.monthly_savings, r.instance_id),
    "confidence": lambda r: (-r.confidence, r.instance_id),
    "risk": lambda r: (-_RISK[r.risk], -r.monthly_savings),
    "kind": lambda r: (r.kind, -r.priority),
}


@router.get("/recommendations", response_class=HTMLResponse)
async def recommendations(
    request: Request,
    who: VisitorDep,
    memo: MemoDep,
    filters: FiltersDep,
    kind: Annotated[list[Kind], Query()] = [],  # noqa: B006
    sort: Sort = "priority",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    kinds = list(kind) or list(RECOMMENDATION_KINDS)
    error, ledger = None, Ledger(instances_analysed=0, opportunities=[], under_provisioned=[])
    try:
        scope = filters.scope()
        ledger = await memo.ledger(scope, kinds)
    except ScopeError as exc:
        error = str(exc)
    rows: list[Recommendation] = sorted(ledger.opportunities, key=_ORDER[sort])
    startable = [k for k in KINDS.values() if k.recommendation in kinds and not k.spends]
    template = (
        "_recommendations.html" if request.headers.get("hx-target") == "results" else "recommendations.html"
    )
    return page(
        request, template, who, status_code=422 if error else 200, title="Recommendations", error=error,
        filters=filters, kinds=kinds, all_kinds=RECOMMENDATION_KINDS, sort=sort, offset=offset, size=PAGE,
        rows=rows[offset : offset + PAGE], total=len(rows), summary=ledger.summary,
        analysed=ledger.instances_analysed, resources=_resources(ledger), under=ledger.under_provisioned,
        under_cost=ledger.under_provisioned_monthly_cost, startable=startable,
    )  # fmt: skip


def _resources(ledger: Ledger) -> str:
    """The volumes, snapshots, addresses and buckets analysed, in words ("" when none was)."""
    counts = ((ledger.volumes_analysed, "volumes"), (ledger.snapshots_analysed, "snapshots"),
              (ledger.addresses_analysed, "addresses"), (ledger.buckets_analysed, "buckets"))  # fmt: skip
    return ", ".join(f"{n} {what}" for n, what in counts if n)
