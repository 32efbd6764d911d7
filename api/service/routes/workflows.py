"""/api/v1/workflows: trigger a rollout (it runs in the service's background), follow it, decide it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from api.service.deps import Decider, Reader, RolloutsDep, RunnerDep, Starter
from api.service.problems import Problem
from api.service.runner import WorkflowBusyError, WorkflowRunner
from api.service.schemas import (
    AuditOut,
    CancelRequest,
    DecisionRequest,
    Kind,
    PendingApprovalOut,
    Review,
    WaveOut,
    WorkflowAccepted,
    WorkflowOut,
    WorkflowRequest,
    WorkflowSummary,
)
from graphs.rollout.models import FINAL_STATUSES, Decision, RolloutSettings, Scope
from graphs.rollout.savings import MeasuredSavings
from graphs.rollout.workflow import (
    InvalidDecisionError,
    InvalidScopeError,
    NotEndedError,
    NothingPendingError,
    Rollouts,
)

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
EVENTS_POLL_SECONDS = 0.5
MAX_EVENT_ID = 2**31 - 1  # the events table's id is a 32-bit integer on PostgreSQL


@router.post("", status_code=202, response_model=WorkflowAccepted)
async def trigger(
    body: WorkflowRequest, request: Request, rollouts: RolloutsDep, runner: RunnerDep, caller: Starter
) -> WorkflowAccepted:
    """Start a spot migration or a rightsizing for a scope; it runs in the background (follow its events)."""
    given = body.model_dump(include={"waves", "max_changes", "max_latency_increase_pct"}, exclude_none=True)
    try:
        settings = RolloutSettings(auto_approve=body.auto_approve, **given)
        scope = Scope.model_validate(body.scope.model_dump())
    except ValidationError as exc:  # e.g. waves that do not rise to 1.0
        first = exc.errors(include_url=False)[0]
        raise Problem(422, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    try:
        workflow_id = await rollouts.register(
            body.kind, scope, settings, caller=caller, cloud_url=request.app.state.cloud_url
        )
    except InvalidScopeError as exc:
        raise Problem(422, f"scope.instance_ids: {exc}") from None
    await runner.start(workflow_id)
    return WorkflowAccepted(workflow_id=workflow_id, status="planning")


@router.get("", response_model=list[WorkflowSummary])
async def list_workflows(
    rollouts: RolloutsDep,
    _: Reader,
    status: Annotated[str | None, Query(max_length=32)] = None,
    kind: Kind | None = None,
) -> list[WorkflowSummary]:
    runs = await rollouts.store.runs(status=status, kind=kind)
    return [WorkflowSummary.model_validate(r.model_dump()) for r in runs]


@router.get("/{workflow_id}", response_model=WorkflowOut)
async def get_workflow(workflow_id: str, rollouts: RolloutsDep, _: Reader) -> WorkflowOut:
    stored = await rollouts.stored(workflow_id)  # an unknown id is a 404 (problems.install)
    run = await rollouts.status(workflow_id)
    plan = await rollouts.plan(workflow_id)
    snapshot = await rollouts.graph.aget_state({"configurable": {"thread_id": workflow_id}})
    approvals = snapshot.values.get("approvals", [])
    verdicts = {c.number: c.degraded or c.too_many_failures for c in snapshot.values.get("checks", [])}
    waves = [
        WaveOut(number=w.number, instances=len(w.results), failed=w.failed, started_at=w.started_at,
                finished_at=w.finished_at, degraded=verdicts.get(w.number))
        for w in snapshot.values.get("waves", [])
    ]  # fmt: skip
    return WorkflowOut(
        workflow_id=workflow_id,
        kind=run.kind,
        status=run.status,
        requested_by=run.requested_by,
        created_at=stored.created_at,
        planned=run.planned,
        approved=run.approved,
        waves_done=run.waves_done,
        plan=(
            {
                "instances_analyzed": plan.instances_analyzed,
                "opportunities": plan.opportunities,
                "changes": len(plan.changes),
                "monthly_savings": plan.monthly_savings,
            }
            if plan
            else None
        ),  # fmt: skip
        approvals=[Review.model_validate(a.model_dump()) for a in approvals],
        waves=waves,
        pending=PendingApprovalOut.model_validate(run.pending.model_dump()) if run.pending else None,
        signoffs=run.signoffs,
        waiting_for=run.waiting_for,
        report=run.report.model_dump(mode="json") if run.report else None,
    )


@router.get("/{workflow_id}/audit", response_model=list[AuditOut])
async def audit(workflow_id: str, rollouts: RolloutsDep, _: Reader) -> list[AuditOut]:
    return [AuditOut.model_validate(e.model_dump()) for e in await rollouts.audit(workflow_id)]


@router.get("/{workflow_id}/savings", response_model=MeasuredSavings)
async def savings(workflow_id: str, rollouts: RolloutsDep, _: Reader) -> MeasuredSavings:
    """What the ended rollout's kept changes save, read from the cloud's bill now: an off-hours schedule's
    once the week after its last wave has passed (`monthly_savings` is null until then, and `note` says
    from when). 409 while the workflow has not ended."""
    try:
        return await rollouts.savings(workflow_id)
    except NotEndedError as exc:
        raise Problem(409, str(exc)) from None


@router.post("/{workflow_id}/decision", status_code=202, response_model=WorkflowAccepted)
async def decide(
    workflow_id: str, body: DecisionRequest, rollouts: RolloutsDep, runner: RunnerDep, caller: Decider
) -> WorkflowAccepted:
    """Approve (all, or only `instance_ids`) or reject the pending plan; the rollout goes on in the
    background. A plan that needs several approvers records this approval and answers what it still
    needs (`waiting_for`); the one that completes them carries it on. 409 when nothing is pending (or
    another decision is being applied, or you approved it already); 403 when your role cannot count."""
    decision = Decision(
        decision=body.decision, by=caller.name, instance_ids=body.instance_ids, comment=body.comment
    )
    try:
        # The domain's checks (role, distinct approver, something pending, known ids) answer now; the
        # rollout itself goes on in the background, where the same checks run again under the lease.
        await rollouts.check_decision(workflow_id, decision, caller)
        taken = await runner.decide(workflow_id, decision, caller)
    except (WorkflowBusyError, NothingPendingError) as exc:
        raise Problem(409, str(exc)) from None
    except InvalidDecisionError as exc:
        raise Problem(422, str(exc)) from None
    if taken is None:
        run = await rollouts.status(workflow_id)
        return WorkflowAccepted(workflow_id=workflow_id, status=run.status, waiting_for=run.waiting_for)
    return WorkflowAccepted(
        workflow_id=workflow_id, status="rolling_out" if body.decision == "approve" else "rejected"
    )


@router.post("/{workflow_id}/cancel", status_code=202, response_model=WorkflowAccepted)
async def cancel(
    workflow_id: str, runner: RunnerDep, caller: Decider, body: CancelRequest | None = None
) -> WorkflowAccepted:
    """Stop the workflow at its next step boundary, rolling back what it changed (`{"rollback": false}`
    keeps it). 409 once it has ended, or while it is being cancelled already."""
    rollback = body.rollback if body is not None else True
    try:
        await runner.cancel(workflow_id, caller, rollback)
    except NothingPendingError as exc:
        raise Problem(409, str(exc)) from None
    return WorkflowAccepted(workflow_id=workflow_id, status="cancelling")


@router.post("/{workflow_id}/resume", status_code=202, response_model=WorkflowAccepted)
async def resume(workflow_id: str, rollouts: RolloutsDep, runner: RunnerDep, _: Starter) -> WorkflowAccepted:
    """Retry a workflow that failed (its cloud unreachable, or an outcome it could not read back): it carries
    on from its last checkpoint in the background, repeating no change. 409 unless it failed."""
    stored = await rollouts.stored(workflow_id)
    if stored.status != "failed":
        raise Problem(409, f"workflow {workflow_id} has not failed (it is {stored.status}): nothing to retry")
    await runner.start(workflow_id)
    return WorkflowAccepted(workflow_id=workflow_id, status="resuming")


@router.get("/{workflow_id}/events", response_class=StreamingResponse)
async def events(
    workflow_id: str,
    request: Request,
    rollouts: RolloutsDep,
    runner: RunnerDep,
    _: Reader,
    after: Annotated[
        int, Query(ge=0, le=MAX_EVENT_ID, description="Resume after this event id (Last-Event-ID works too)")
    ] = 0,
) -> StreamingResponse:
    """Server-Sent Events of the workflow's progress, in order; the stream ends when the workflow has ended
    (or waits for a person)."""
    await rollouts.stored(workflow_id)  # an unknown id is a 404 before the stream opens
    last = request.headers.get("last-event-id", "")
    # ASCII digits only ("²".isdigit() is true), and no larger than an event id can be.
    start = min(int(last), MAX_EVENT_ID) if last.isascii() and last.isdigit() and len(last) < 12 else after
    return StreamingResponse(
        event_stream(request, rollouts, runner, workflow_id, start), media_type="text/event-stream"
    )


async def event_stream(
    request: Request, rollouts: Rollouts, runner: WorkflowRunner, workflow_id: str, after: int
) -> AsyncIterator[str]:
    """The workflow's events after `after`, as Server-Sent Events, until it has settled (ended, waits for a
    person, failed) and nothing drives it here; the console's live view reads the same stream."""
    while True:
        found = await rollouts.store.events(workflow_id, after)
        for number, event in found:
            after = number
            yield f"id: {number}\nevent: {event.get('event', 'message')}\ndata: {json.dumps(event)}\n\n"
        stored = await rollouts.store.run(workflow_id)
        settled = stored is None or stored.status in (*FINAL_STATUSES, "awaiting_approval", "failed")
        running = workflow_id in runner.tasks
        if settled and not running and not found:
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENTS_POLL_SECONDS)
