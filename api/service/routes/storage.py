"""/api/v1/volumes, /snapshots, /addresses, /buckets: what the account holds besides machines, a page at a
time."""

from __future__ import annotations

import asyncio
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.service.deps import CloudDep, Reader
from api.service.routes.scope import Application, Limit, Offset, Region, Tags, tags_of
from api.service.schemas import Cloud
from tools.models import Address, Bucket, ResourceFilter, Snapshot, Volume

router = APIRouter(prefix="/api/v1", tags=["cloud"])


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a listing and how many it holds in all."""

    total: int
    offset: int
    limit: int
    items: list[T]

    @classmethod
    def of(cls, found: list[T], offset: int, limit: int) -> Page[T]:
        return cls(total=len(found), offset=offset, limit=limit, items=found[offset : offset + limit])


@router.get("/volumes", response_model=Page[Volume])
async def volumes(
    cloud: CloudDep,
    _: Reader,
    provider: Cloud | None = None,
    region: Region = None,
    state: Literal["in-use", "available"] | None = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Volume]:
    """Block volumes matching every filter (`state=available`: attached to nothing)."""
    scope = ResourceFilter(
        provider=provider, region=region, state=state, application=application, tags=tags_of(tag)
    )
    found = await asyncio.to_thread(cloud.list_volumes, scope)
    return Page.of(found, offset, limit)


@router.get("/snapshots", response_model=Page[Snapshot])
async def snapshots(
    cloud: CloudDep,
    _: Reader,
    provider: Cloud | None = None,
    region: Region = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
    recycle_bin: Annotated[bool, Query(description="Deleted ones still recoverable too")] = False,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Snapshot]:
    """Snapshots matching every filter, with their age, source volume (gone or not) and monthly price."""
    scope = ResourceFilter(provider=provider, region=region, application=application, tags=tags_of(tag))
    found = await asyncio.to_thread(cloud.list_snapshots, scope, recycle_bin)
    return Page.of(found, offset, limit)


@router.get("/addresses", response_model=Page[Address])
async def addresses(
    cloud: CloudDep,
    _: Reader,
    provider: Cloud | None = None,
    region: Region = None,
    state: Literal["in-use", "idle"] | None = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Address]:
    """Public addresses matching every filter (`state=idle`: attached to nothing, billed all the same)."""
    scope = ResourceFilter(
        provider=provider, region=region, state=state, application=application, tags=tags_of(tag)
    )
    found = await asyncio.to_thread(cloud.list_addresses, scope)
    return Page.of(found, offset, limit)


@router.get("/buckets", response_model=Page[Bucket])
async def buckets(
    cloud: CloudDep,
    _: Reader,
    provider: Cloud | None = None,
    region: Region = None,
    application: Application = None,
    tag: Tags = [],  # noqa: B006
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Bucket]:
    """Object storage buckets matching every filter, with their storage class, size and daily reads."""
    scope = ResourceFilter(provider=provider, region=region, application=application, tags=tags_of(tag))
    found = await asyncio.to_thread(cloud.list_buckets, scope)
    return Page.of(found, offset, limit)
