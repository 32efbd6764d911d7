"""What a request is about (its route) and what it names (its parameters)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from tools.models import CloudName

RouteName = Literal[
    "cost",
    "performance",
    "resource",
    "application",
    "spot_migration",
    "rightsizing",
    "approval",
    "status",
    "general",
]
ROUTES: tuple[RouteName, ...] = get_args(RouteName)
# The four specialists that answer questions with their tools; the other routes act or talk.
SPECIALISTS: tuple[RouteName, ...] = ("cost", "performance", "resource", "application")
Source = Literal["embedded", "ollama"]


class RouteParams(BaseModel):
    """What a request names, as written in it (nothing guessed)."""

    model_config = ConfigDict(frozen=True)

    instance_ids: list[str] = Field(default_factory=list, description="AWS i-…, GCP gcp-…, Azure vm-…")
    provider: CloudName | None = None
    region: str | None = None
    instance_type: str | None = None
    decision: Literal["approve", "reject"] | None = None
    environment: Literal["production", "staging", "development"] | None = None
    team: str | None = None
    application: str | None = None
    workflow_id: str | None = Field(None, description="A rollout workflow named in the request (wf-…)")


class Route(BaseModel):
    """Where a request goes, what it names, how sure the router is, and which router decided."""

    route: RouteName
    params: RouteParams = Field(default_factory=RouteParams)
    confidence: float = Field(ge=0, le=1)
    source: Source
