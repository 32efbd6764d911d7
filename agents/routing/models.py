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


class Period(BaseModel):
    """A time window as a request words it: the last `count` days, weeks or months back from now (rolling), a
    calendar day, week or month ("this" one so far, or the "last" whole one), or a named month."""

    model_config = ConfigDict(frozen=True)

    unit: Literal["day", "week", "month"]
    count: int = Field(1, ge=1, le=400, description="Rolling windows: how many units back from now")
    calendar: Literal["this", "last"] | None = Field(
        None, description="A calendar unit instead of a rolling one"
    )
    month: int | None = Field(None, ge=1, le=12, description="A named month: its latest one that has begun")


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
    tags: dict[str, str] = Field(default_factory=dict, description="Tags named as key=value")
    period: Period | None = None
    resize: Literal["up", "down"] | None = Field(None, description="Which way a resize request goes")
    workflow_id: str | None = Field(None, description="A rollout workflow named in the request (wf-…)")


class Route(BaseModel):
    """Where a request goes, what it names, how sure the router is, and which router decided."""

    route: RouteName
    params: RouteParams = Field(default_factory=RouteParams)
    confidence: float = Field(ge=0, le=1)
    source: Source
