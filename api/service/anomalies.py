"""/api/v1/anomalies: cost anomalies — the detector run on demand, what it kept, and people's word on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from api.service.problems import Problem
from api.service.security import Caller, require
from graphs.anomaly_store import AnomalyNotFoundError, AnomalyStore, Feedback, Status, StoredAnomaly
from graphs.finops import FinOps

router = APIRouter(prefix="/api/v1/anomalies", tags=["anomalies"])
Key = Annotated[str, Path(max_length=400, description="dimension=value@first-day, as listed")]


class AnomalyPage(BaseModel):
    total: int
    spikes: int = Field(description="Of them, spikes (the alerts); the rest is new spend")
    items: list[StoredAnomaly]


class CheckOut(BaseModel):
    new: list[str] = Field(description="Keys of the anomalies this check found first")
    items: list[StoredAnomaly]


class AnomalyUpdate(BaseModel):
    status: Literal["acknowledged", "resolved", "open"] | None = None
    feedback: Feedback | None = Field(None, description="What it was: not_an_anomaly, expected or real")


def _store(request: Request) -> AnomalyStore:
    return AnomalyStore(request.app.state.rollouts.db)


@router.get("", response_model=AnomalyPage)
async def list_anomalies(
    request: Request,
    _: Annotated[Caller, Depends(require("read"))],
    status: Status | None = None,
    since: Annotated[date | None, Query(description="Only those running on or after this day")] = None,
    kind: Literal["spike", "new_spend"] | None = None,
) -> AnomalyPage:
    """The anomalies kept so far, largest impact first."""
    found = await _store(request).anomalies(status, since, kind)
    return AnomalyPage(total=len(found), spikes=sum(a.finding.kind == "spike" for a in found), items=found)


@router.post("/check", response_model=CheckOut)
async def check(
    request: Request,
    _: Annotated[Caller, Depends(require("manage"))],
    days: Annotated[int, Query(ge=1, le=60, description="Report anomalies of the last N whole days")] = 7,
) -> CheckOut:
    """Run the detector over 90 days of daily costs; what it finds is kept, and each anomaly is new once
    (a new spike is told to the channels that subscribe to anomalies)."""
    finops: FinOps = request.app.state.finops
    checked = await finops.check_anomalies(days)
    store = _store(request)
    return CheckOut(new=checked.opened, items=[await store.get(a.key) for a in checked.found])


@router.get("/{key}", response_model=StoredAnomaly)
async def get_anomaly(
    request: Request, key: Key, _: Annotated[Caller, Depends(require("read"))]
) -> StoredAnomaly:
    try:
        return await _store(request).get(key)
    except AnomalyNotFoundError as exc:
        raise Problem(404, str(exc)) from None


@router.patch("/{key}", response_model=StoredAnomaly)
async def update_anomaly(
    request: Request, key: Key, body: AnomalyUpdate, caller: Annotated[Caller, Depends(require("manage"))]
) -> StoredAnomaly:
    """Acknowledge or resolve an anomaly, and say what it was."""
    if body.status is None and body.feedback is None:
        raise Problem(422, "say a status, a feedback, or both")
    try:
        return await _store(request).update(key, caller.name, body.status, body.feedback)
    except AnomalyNotFoundError as exc:
        raise Problem(404, str(exc)) from None
