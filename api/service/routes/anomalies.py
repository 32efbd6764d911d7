"""/api/v1/anomalies: cost anomalies — the detector run on demand, what it kept, and people's word on them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.service.deps import FinOpsDep, Manager, Reader
from api.service.problems import Problem
from graphs.anomaly_store import AnomalyNotFoundError, Feedback, Status, StoredAnomaly

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


@router.get("", response_model=AnomalyPage)
async def list_anomalies(
    finops: FinOpsDep,
    _: Reader,
    status: Status | None = None,
    since: Annotated[date | None, Query(description="Only those running on or after this day")] = None,
    kind: Literal["spike", "new_spend"] | None = None,
) -> AnomalyPage:
    """The anomalies kept so far, largest impact first."""
    found = await finops.anomalies.anomalies(status, since, kind)
    return AnomalyPage(total=len(found), spikes=sum(a.finding.kind == "spike" for a in found), items=found)


@router.post("/check", response_model=CheckOut)
async def check(
    finops: FinOpsDep,
    _: Manager,
    days: Annotated[int, Query(ge=1, le=60, description="Report anomalies of the last N whole days")] = 7,
) -> CheckOut:
    """Run the detector over 90 days of daily costs; what it finds is kept, and each anomaly is new once
    (a new spike is told to the channels that subscribe to anomalies)."""
    checked = await finops.check_anomalies(days)
    return CheckOut(new=checked.opened, items=[await finops.anomalies.get(a.key) for a in checked.found])


@router.get("/{key}", response_model=StoredAnomaly)
async def get_anomaly(key: Key, finops: FinOpsDep, _: Reader) -> StoredAnomaly:
    try:
        return await finops.anomalies.get(key)
    except AnomalyNotFoundError as exc:
        raise Problem(404, str(exc)) from None


@router.patch("/{key}", response_model=StoredAnomaly)
async def update_anomaly(key: Key, body: AnomalyUpdate, finops: FinOpsDep, caller: Manager) -> StoredAnomaly:
    """Acknowledge or resolve an anomaly, and say what it was."""
    if body.status is None and body.feedback is None:
        raise Problem(422, "say a status, a feedback, or both")
    try:
        return await finops.anomalies.update(key, caller.name, body.status, body.feedback)
    except AnomalyNotFoundError as exc:
        raise Problem(404, str(exc)) from None
