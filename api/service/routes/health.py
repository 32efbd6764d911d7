"""/healthz, /readyz, /metrics: open to anyone (a load balancer's and Prometheus's view)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from api.service.deps import CloudDep, RolloutsDep
from api.service.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(rollouts: RolloutsDep, cloud: CloudDep) -> dict[str, str]:
    """The database and the cloud answer."""
    try:
        await rollouts.db.ping()
    except Exception as exc:
        raise Problem(503, f"database unreachable: {type(exc).__name__}") from None
    try:
        await asyncio.to_thread(cloud.now)
    except Exception as exc:
        raise Problem(503, f"cloud unreachable: {type(exc).__name__}") from None
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
async def prometheus(request: Request, rollouts: RolloutsDep) -> Response:
    """Prometheus text format."""
    return await request.app.state.metrics.exposition(rollouts.store)
