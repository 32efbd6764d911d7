"""/api/v1/instances: the fleet as the tools see it, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter

from api.service.deps import CountedCloudDep, Reader
from api.service.routes.scope import Application, Limit, Offset, Region
from api.service.schemas import Cloud, InstanceOut, InstancePage
from tools.models import InstanceFilter, InstanceState, PricingModel
from tools.models import InstancePage as CloudInstancePage

router = APIRouter(prefix="/api/v1", tags=["cloud"])


@router.get("/instances", response_model=InstancePage)
async def instances(
    cloud: CountedCloudDep,
    _: Reader,
    provider: Cloud | None = None,
    region: Region = None,
    state: InstanceState | None = None,
    pricing_model: PricingModel | None = None,
    application: Application = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> InstancePage:
    """Instances matching every filter given, in the cloud's order."""
    scope = InstanceFilter(
        provider=provider, region=region, state=state, pricing_model=pricing_model, application=application
    )
    found: CloudInstancePage = await cloud.quick("page_instances", scope, offset, limit)
    return InstancePage(
        total=found.total, offset=offset, limit=limit, items=[InstanceOut.of(i) for i in found.instances]
    )
