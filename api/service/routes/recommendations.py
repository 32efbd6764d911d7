"""/api/v1/recommendations: the ledger's savings opportunities, one per resource."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from api.service.deps import CloudDep, Reader
from api.service.routes.scope import Application, Offset, Region, Tags, tags_of
from api.service.schemas import Cloud, RecommendationOut, RecommendationPage
from tools.analysis.ledger import read_ledger
from tools.analysis.recommendation import KINDS, Kind
from tools.models import InstanceFilter

router = APIRouter(prefix="/api/v1", tags=["cloud"])


@router.get("/recommendations", response_model=RecommendationPage)
async def recommendations(
    cloud: CloudDep,
    _: Reader,
    kind: Annotated[list[Kind] | None, Query()] = None,
    provider: Cloud | None = None,
    region: Region = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RecommendationPage:
    """Savings opportunities, highest priority first: machines' (rightsize, idle, spot, reserved) and the
    account's volumes, snapshots and addresses (unattached_volume, volume_type, old_snapshot, idle_address):
    the ledger chat, `optiinfra recommend` and rollout plans read. Under-provisioned machines are counted
    apart."""
    scope = InstanceFilter(provider=provider, region=region, application=application, tags=tags_of(tag))
    ledger = await asyncio.to_thread(read_ledger, cloud, scope, kind or KINDS)
    found = ledger.opportunities
    return RecommendationPage(
        total=len(found),
        offset=offset,
        limit=limit,
        monthly_savings=ledger.summary.monthly_savings,
        under_provisioned=len(ledger.under_provisioned),
        under_provisioned_monthly_cost=ledger.under_provisioned_monthly_cost,
        notes=ledger.notes,
        items=[RecommendationOut.model_validate(r.model_dump()) for r in found[offset : offset + limit]],
    )
