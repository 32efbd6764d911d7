"""Rollouts: the list, and a rollout's page — its plan, each agent's review, the request waiting for people
(Approve, Approve selected, Reject, for an approver), the waves and their quality verdicts as they arrive
(Server-Sent Events), the report and the audit. Starting one (an operator's) comes from Recommendations.
Every decision goes through the domain's rules, as over HTTP and in chat."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from api.console.access import VisitorDep, permitted
from api.console.rendering import page
from api.console.scope import Filters, ScopeError
from api.console.sessions import Visitor, form
from api.service.deps import RolloutsDep, RunnerDep
from api.service.routes.workflows import event_stream
from api.service.runner import WorkflowBusyError, WorkflowRunner
from graphs.rollout.authority import NotPermittedError
from graphs.rollout.events import read_event
from graphs.rollout.kinds import KINDS
from graphs.rollout.models import Decision, RolloutSettings, Scope
from graphs.rollout.workflow import (
    InvalidDecisionError,
    InvalidKindError,
    InvalidScopeError,
    NothingPendingError,
    Rollouts,
    WorkflowNotFoundError,
)

router = APIRouter(include_in_schema=False)
STATUSES = ("awaiting_approval", "rolling_out", "planning", "completed", "rolled_back", "rejected",
            "nothing_to_do", "cancelled", "expired", "failed")  # fmt: skip


@router.get("/rollouts", response_class=HTMLResponse)
async def rollouts_page(
    request: Request,
    who: VisitorDep,
    rollouts: RolloutsDep,
    status: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    runs = await rollouts.store.runs(status=status or None)
    return page(request, "rollouts.html", who, title="Rollouts", runs=list(reversed(runs)), status=status,
                statuses=STATUSES, kinds=KINDS)  # fmt: skip


@router.post("/rollouts")
async def start(request: Request, who: VisitorDep, rollouts: RolloutsDep, runner: RunnerDep) -> Response:
    posted = await form(request, who)
    permitted(who, "start")
    filters = Filters.posted(posted)
    try:
        scoped = filters.scope()
        scope = Scope(provider=scoped.provider, region=scoped.region, application=scoped.application,
                      tags=scoped.tags, instance_ids=posted.all("ids"))  # fmt: skip
        workflow_id = await rollouts.register(
            posted.get("kind"),
            scope,
            RolloutSettings(),
            caller=who.caller,
            cloud_url=request.app.state.cloud_url,
        )
    except (ScopeError, InvalidKindError, InvalidScopeError, ValueError) as exc:
        return page(request, "refused.html", who, status_code=422, title="Not started", message=str(exc))
    await runner.start(workflow_id)
    return RedirectResponse(f"/rollouts/{workflow_id}", status_code=303)


@router.get("/rollouts/{workflow_id}", response_class=HTMLResponse)
async def rollout_page(
    request: Request, workflow_id: str, who: VisitorDep, rollouts: RolloutsDep, runner: RunnerDep
) -> HTMLResponse:
    return await _shown(request, rollouts, runner, workflow_id, who)


async def _shown(
    request: Request, rollouts: Rollouts, runner: WorkflowRunner, workflow_id: str, who: Visitor,
    error: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    try:
        stored = await rollouts.stored(workflow_id)
    except WorkflowNotFoundError as exc:
        return page(request, "refused.html", who, status_code=404, title="No such rollout", message=str(exc))
    run = await rollouts.status(workflow_id)
    values: dict[str, Any] = (
        await rollouts.graph.aget_state({"configurable": {"thread_id": workflow_id}})
    ).values
    checks = {c.number: c for c in values.get("checks", [])}
    plan = await rollouts.plan(workflow_id)
    by_id = {c.instance_id: c for c in plan.changes} if plan else {}
    running = workflow_id in runner.tasks or run.status in ("planning", "rolling_out", "deciding")
    happened = [(number, read_event(e)) for number, e in await rollouts.store.events(workflow_id)]
    return page(
        request, "rollout.html", who, status_code=status_code, title=f"Rollout {workflow_id}", run=run,
        stored=stored, kind=KINDS[run.kind], plan=plan, by_id=by_id, approvals=values.get("approvals", []),
        waves=values.get("waves", []), checks=checks, audit=await rollouts.audit(workflow_id), error=error,
        live=running and run.pending is None, happened=happened,
        after=happened[-1][0] if happened else 0,
    )  # fmt: skip


@router.post("/rollouts/{workflow_id}/decision")
async def decide(
    request: Request, workflow_id: str, who: VisitorDep, rollouts: RolloutsDep, runner: RunnerDep
) -> Response:
    posted = await form(request, who)
    permitted(who, "decide")
    action = posted.get("action")
    chosen = posted.all("ids") if action == "approve_selected" else None
    if action == "approve_selected" and not chosen:
        return await _shown(
            request, rollouts, runner, workflow_id, who, "Tick the instances to approve first.", 422
        )
    decision = Decision(decision="reject" if action == "reject" else "approve", by=who.caller.name,
                        instance_ids=chosen, comment=posted.get("comment")[:2000] or None)  # fmt: skip
    try:
        await rollouts.check_decision(workflow_id, decision, who.caller)
        await runner.decide(workflow_id, decision, who.caller)
    except NotPermittedError as exc:
        return await _shown(request, rollouts, runner, workflow_id, who, str(exc), 403)
    except (NothingPendingError, WorkflowBusyError) as exc:
        return await _shown(request, rollouts, runner, workflow_id, who, str(exc), 409)
    except (InvalidDecisionError, WorkflowNotFoundError) as exc:
        return await _shown(request, rollouts, runner, workflow_id, who, str(exc), 422)
    return RedirectResponse(f"/rollouts/{workflow_id}", status_code=303)


@router.get("/rollouts/{workflow_id}/events")
async def events(
    request: Request,
    workflow_id: str,
    who: VisitorDep,
    rollouts: RolloutsDep,
    runner: RunnerDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> StreamingResponse:
    """The rollout's progress as it happens, after the event `after` (the API's stream, for a signed-in
    visitor)."""
    await rollouts.stored(workflow_id)
    last = request.headers.get("last-event-id", "")
    after = int(last) if last.isascii() and last.isdigit() and len(last) < 10 else after
    return StreamingResponse(event_stream(request, rollouts, runner, workflow_id, after),
                             media_type="text/event-stream")  # fmt: skip
