"""/api/v1/chat, and the cloud as the tools see it: /api/v1/instances, /costs, /recommendations."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.service.problems import Problem
from api.service.schemas import (
    ChatRequest,
    ChatResponse,
    Cloud,
    CostsOut,
    InstanceOut,
    InstancePage,
    PendingApprovalOut,
    RecommendationOut,
    RecommendationPage,
)
from api.service.security import Caller, require
from graphs.supervisor.chat import Chat, ChatError, new_thread_id
from tools.analysis.ledger import read_ledger
from tools.analysis.recommendation import KINDS, Kind
from tools.errors import InvalidRequestError
from tools.models import InstanceFilter, InstanceState, PricingModel
from tools.models import InstancePage as CloudInstancePage
from tools.provider import CloudProvider
from tools.tag_filters import TagFilterError, parse_tag_filters

router = APIRouter(prefix="/api/v1")
log = logging.getLogger("optiinfra.chat")
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _cloud(request: Request) -> CloudProvider:
    cloud: CloudProvider = request.app.state.cloud
    return cloud


@router.post("/chat", response_model=ChatResponse, tags=["chat"])
async def chat(
    body: ChatRequest, request: Request, caller: Annotated[Caller, Depends(require("read"))]
) -> ChatResponse:
    """One turn of a conversation (a new one without `thread_id`): routed, answered, or acted on. Anyone
    may ask; what a turn starts or decides is allowed by the caller's role, as on the workflow routes."""
    conversation: Chat = request.app.state.chat
    try:
        turn = await conversation.turn(body.thread_id or new_thread_id(), body.message, caller)
    except ChatError as exc:
        raise Problem(422, str(exc)) from None
    request.app.state.metrics.routes.labels(turn.route.route, turn.route.source).inc()
    log.info("chat turn routed to %s by %s", turn.route.route, turn.route.source,
             extra={"thread_id": turn.thread_id, "key_name": caller.name})  # fmt: skip
    pending = turn.pending_approval
    return ChatResponse(
        thread_id=turn.thread_id,
        route=turn.route.route,
        agent=turn.agent,
        reply=turn.reply,
        data=turn.data,
        pending_approval=PendingApprovalOut.model_validate(pending.model_dump()) if pending else None,
        routing=turn.route.model_dump(mode="json", exclude={"route"}),
    )


@router.get("/instances", response_model=InstancePage, tags=["cloud"])
async def instances(
    request: Request,
    _: Annotated[Caller, Depends(require("read"))],
    provider: Cloud | None = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    state: InstanceState | None = None,
    pricing_model: PricingModel | None = None,
    application: Annotated[str | None, Query(max_length=128)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> InstancePage:
    """Instances matching every filter given, in the cloud's order."""
    scope = InstanceFilter(
        provider=provider, region=region, state=state, pricing_model=pricing_model, application=application
    )
    found: CloudInstancePage = await request.app.state.cloud.quick("page_instances", scope, offset, limit)
    page = found.instances
    return InstancePage(
        total=found.total,
        offset=offset,
        limit=limit,
        items=[InstanceOut.of(i) for i in page],
    )


@router.get("/costs", response_model=CostsOut, tags=["cloud"])
async def costs(
    request: Request,
    _: Annotated[Caller, Depends(require("read"))],
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
    region: Annotated[str | None, Query(max_length=64)] = None,
    application: Annotated[str | None, Query(max_length=128)] = None,
    tag: Annotated[list[str], Query(description="key=value; repeat to require several")] = [],  # noqa: B006
) -> CostsOut:
    """Accrued spend over the last `days` of the instances matching every filter, optionally broken down."""
    scope = InstanceFilter(provider=provider, region=region, application=application, tags=_tags(tag))
    try:
        found = await asyncio.to_thread(_cloud(request).costs, group_by, days, scope)
    except InvalidRequestError as exc:
        raise Problem(422, exc.message) from None
    return CostsOut.model_validate(found.model_dump())


@router.get("/recommendations", response_model=RecommendationPage, tags=["cloud"])
async def recommendations(
    request: Request,
    _: Annotated[Caller, Depends(require("read"))],
    kind: Annotated[list[Kind] | None, Query()] = None,
    provider: Cloud | None = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    application: Annotated[str | None, Query(max_length=128)] = None,
    tag: Annotated[list[str], Query(description="key=value; repeat to require several")] = [],  # noqa: B006
    offset: Offset = 0,
    limit: Limit = 50,
) -> RecommendationPage:
    """Savings opportunities (rightsize, idle, spot, reserved), highest priority first: the ledger chat,
    `optiinfra recommend` and rollout plans read. Under-provisioned machines are counted apart."""
    cloud = _cloud(request)
    scope = InstanceFilter(provider=provider, region=region, application=application, tags=_tags(tag))
    ledger = await asyncio.to_thread(read_ledger, cloud, scope, kind or KINDS)
    found = ledger.opportunities
    return RecommendationPage(
        total=len(found),
        offset=offset,
        limit=limit,
        monthly_savings=ledger.summary.monthly_savings,
        under_provisioned=len(ledger.under_provisioned),
        under_provisioned_monthly_cost=ledger.under_provisioned_monthly_cost,
        items=[RecommendationOut.model_validate(r.model_dump()) for r in found[offset : offset + limit]],
    )


def _tags(given: list[str]) -> dict[str, str]:
    try:
        return parse_tag_filters(given)
    except TagFilterError as exc:
        raise Problem(422, f"tag: {exc}") from None
