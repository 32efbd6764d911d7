"""/api/v1/chat: one turn of a conversation with the supervisor."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from api.service.deps import ChatDep, Reader
from api.service.problems import Problem
from api.service.schemas import ChatRequest, ChatResponse, PendingApprovalOut
from graphs.supervisor.chat import ChatError, new_thread_id

router = APIRouter(prefix="/api/v1", tags=["chat"])
log = logging.getLogger("optiinfra.chat")


@router.post("/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, request: Request, conversation: ChatDep, caller: Reader) -> ChatResponse:
    """One turn of a conversation (a new one without `thread_id`): routed, answered, or acted on. Anyone
    may ask; what a turn starts or decides is allowed by the caller's role, as on the workflow routes."""
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
