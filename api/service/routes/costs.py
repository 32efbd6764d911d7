"""/api/v1/costs: what the bill says, for a part of the fleet, broken down as asked."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from api.service.deps import CloudDep, Reader
from api.service.problems import Problem
from api.service.routes.scope import Application, Region, Tags, tags_of
from api.service.schemas import Cloud, CostsOut
from tools.errors import InvalidRequestError
from tools.models import InstanceFilter

router = APIRouter(prefix="/api/v1", tags=["cloud"])


@router.get("/costs", response_model=CostsOut)
async def costs(
    cloud: CloudDep,
    _: Reader,
    group_by: Annotated[
        str | None,
        Query(
            max_length=64,
            description="provider, region, service, day, instance_type, pricing_model, "
            "application, instance or tag:<key>",
        ),
    ] = None,
    days: Annotated[float, Query(gt=0, le=90)] = 30,
    provider: Cloud | None = None,
    region: Region = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
) -> CostsOut:
    """Accrued spend over the last `days` of the instances matching every filter, optionally broken down."""
    scope = InstanceFilter(provider=provider, region=region, application=application, tags=tags_of(tag))
    try:
        found = await asyncio.to_thread(cloud.costs, group_by, days, scope)
    except InvalidRequestError as exc:
        raise Problem(422, exc.message) from None
    return CostsOut.model_validate(found.model_dump())
