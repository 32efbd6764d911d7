"""The rollout graph: plan → review (three agents, in parallel) → gate → wave → monitor → next wave |
rollback → report. One graph for spot migrations and rightsizing; the caller compiles it with a checkpointer.

Every step is checkpointed. A node that changes the cloud may run again after a crash (LangGraph replays
the step that did not finish); its calls carry idempotency keys, so the replay repeats no change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, Send, interrupt

from agents.review import Approval, Change, RolloutPlan
from agents.reviewers import REVIEWERS
from graphs.rollout.events import (
    Decided,
    Monitored,
    Monitoring,
    Planned,
    Progress,
    ProgressEvent,
    Reported,
    Reviewed,
    RollbackStarted,
    RolledBack,
    WaveDone,
    WaveProgress,
    WaveStarted,
)
from graphs.rollout.execution import apply_changes, revert_changes, wave_slices
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import (
    ApprovalRequest,
    ChangeResult,
    Decision,
    PlanSummary,
    ReviewTask,
    RolloutInput,
    RolloutOutput,
    RolloutSettings,
    RolloutState,
    WaveCheck,
    WaveResult,
)
from graphs.rollout.planning import make_plan
from graphs.rollout.quality import compare, wave_degraded
from graphs.rollout.report import build_report, kept_changes, worst_errors, worst_latency
from graphs.rollout.savings import measure
from graphs.rollout.store import AuditEntry, RolloutStore
from tools.analysis.settings import AnalysisSettings
from tools.provider import CloudProvider

# Changes carried out between two audit writes: each batch is durable before the next begins.
AUDIT_BATCH = 250


@dataclass
class RolloutContext:
    """What a run needs besides its state: the cloud, the rollout tables, the analysis thresholds."""

    cloud: CloudProvider
    store: RolloutStore
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    on_progress: Progress | None = None
    plans: dict[str, RolloutPlan] = field(default_factory=dict)  # read once per run, not once per node

    async def plan(self, workflow_id: str) -> RolloutPlan:
        if workflow_id not in self.plans:
            stored = await self.store.plan(workflow_id)
            if stored is None:
                raise LookupError(f"workflow {workflow_id} has no stored plan")
            self.plans[workflow_id] = RolloutPlan.model_validate(stored)
        return self.plans[workflow_id]


def _emit(ctx: RolloutContext, event: ProgressEvent) -> None:
    """Progress, told as it happens: the node waits for the listener, so a listener that acts on an event
    (a demo breaking quality when wave 2 starts) acts before the node goes on."""
    if ctx.on_progress is not None:
        ctx.on_progress(event)


def _entry(state: RolloutState, key: str, kind: Any, actor: str, at: Any, **detail: Any) -> AuditEntry:
    return AuditEntry(workflow_id=state["workflow_id"], key=key, kind=kind, actor=actor, at=at, detail=detail)


def _change_entries(
    state: RolloutState, prefix: str, results: list[ChangeResult], at: Any
) -> list[AuditEntry]:
    return [
        AuditEntry(
            workflow_id=state["workflow_id"],
            key=f"{prefix}/{r.instance_id}",
            kind="rollback" if prefix == "rollback" else "change",
            actor="optiinfra",
            instance_id=r.instance_id,
            at=at,
            detail=r.model_dump(mode="json"),
        )
        for r in results
    ]


async def plan(state: RolloutState, runtime: Runtime[RolloutContext]) -> dict[str, Any]:
    ctx = runtime.context
    found = await asyncio.to_thread(
        make_plan, ctx.cloud, state["kind"], state["scope"], state["settings"], ctx.analysis
    )
    held = await ctx.store.claim(state["workflow_id"], [c.instance_id for c in found.changes])
    if held:
        found = found.model_copy(
            update={
                "changes": [c for c in found.changes if c.instance_id not in held],
                "skipped": {
                    **found.skipped,
                    **{i: f"already in rollout {owner}" for i, owner in held.items()},
                },
            }
        )
    await ctx.store.save_plan(state["workflow_id"], found.model_dump(mode="json"))
    ctx.plans[state["workflow_id"]] = found
    await ctx.store.record(
        [
            _entry(
                state, "plan", "plan", "optiinfra", found.created_at,
                instances_analyzed=found.instances_analyzed, opportunities=found.opportunities,
                changes=len(found.changes), monthly_savings=found.monthly_savings, skipped=found.skipped,
            )
        ]
    )  # fmt: skip
    _emit(
        ctx,
        Planned(
            instances_analyzed=found.instances_analyzed,
            opportunities=found.opportunities,
            changes=len(found.changes),
            monthly_savings=found.monthly_savings,
            skipped=len(found.skipped),
        ),
    )
    status = "planning" if found.changes else "nothing_to_do"
    return {"plan": PlanSummary.of(found), "status": status, "clock": found.created_at}


def fan_out(state: RolloutState) -> list[Send] | Literal["report"]:
    """One review per agent, in parallel; nothing to review goes straight to the report."""
    if not state["plan"].changes:  # a count here: the plan itself is in the database
        return "report"
    return [
        Send(
            "review",
            ReviewTask(agent=a, workflow_id=state["workflow_id"], settings=state["settings"]),
        )
        for a in REVIEWERS
    ]


async def review(task: ReviewTask, runtime: Runtime[RolloutContext]) -> dict[str, Any]:
    ctx = runtime.context
    reviewer = REVIEWERS[task["agent"]]
    plan_ = await ctx.plan(task["workflow_id"])
    check = kind_of(plan_.kind).check(task["agent"])  # what this kind asks of this agent
    approval = await asyncio.to_thread(reviewer, plan_, ctx.cloud, task["settings"].review_policy(), check)
    await ctx.store.record(
        [
            AuditEntry(
                workflow_id=task["workflow_id"],
                key=f"review/{approval.agent}",
                kind="review",
                actor=f"{approval.agent}-agent",
                at=plan_.created_at,
                detail=approval.model_dump(mode="json"),
            )
        ]
    )
    _emit(
        ctx,
        Reviewed(
            agent=approval.agent,
            approved=approval.approved,
            confidence=approval.confidence,
            vetoes=len(approval.vetoes),
        ),
    )
    return {"approvals": [approval]}


def person_needed(
    kind: str, keep: list[Change], approvals: list[Approval], settings: RolloutSettings
) -> list[str]:
    """Why a person must decide; empty when the policy may approve on its own."""
    why = []
    if not settings.auto_approve:
        why.append("auto-approve is off")
    savings = sum(c.monthly_savings for c in keep)
    spec = kind_of(kind)
    if spec.spends:
        why.append(f"costs {-savings:,.2f} USD/month more: spending needs a person")
    if spec.irreversible:
        why.append(f"{spec.title} cannot be undone after {spec.cooling_off}: a person approves every one")
    if savings > settings.person_above_monthly_savings:
        why.append(
            f"saves {savings:,.2f} USD/month, above the {settings.person_above_monthly_savings:,.0f} limit"
        )
    if any(c.risk == "high" for c in keep):
        why.append(f"{sum(c.risk == 'high' for c in keep)} high-risk change(s)")
    unsure = [a.agent for a in approvals if a.confidence < settings.person_below_confidence]
    if unsure:
        why.append(f"low confidence from {', '.join(unsure)}")
    return why


async def gate(state: RolloutState, runtime: Runtime[RolloutContext]) -> Command[Literal["wave", "report"]]:
    ctx = runtime.context
    wf = state["workflow_id"]
    if cancelled := await ctx.store.cancellation(wf):  # before anything changed: nothing to roll back
        update = {"status": "cancelled", "approved": [], "cancelled_by": cancelled["by"]}
        return Command(goto="report", update=update)
    plan_ = await ctx.plan(wf)
    vetoed = {iid for a in state["approvals"] for iid in a.vetoes}
    keep = [c for c in plan_.changes if c.instance_id not in vetoed]
    await ctx.store.release(wf, vetoed)  # vetoed instances are free for other rollouts at once
    if not keep:
        return Command(goto="report", update={"status": "nothing_to_do", "approved": []})
    why = person_needed(state["kind"], keep, state["approvals"], state["settings"])
    if why:
        await ctx.store.set_status(wf, "awaiting_approval")
        savings = round(sum(c.monthly_savings for c in keep), 2)
        risk = max((c.risk for c in keep), key=("low", "medium", "high").index)
        policy = state["settings"].approval
        request = ApprovalRequest(
            workflow_id=wf,
            kind=state["kind"],
            instance_ids=[c.instance_id for c in keep],
            monthly_savings=savings,
            risk=risk,
            approvals=state["approvals"],
            why=why,
            needs=policy.needs(savings, risk),
            requested_at=state["clock"],
            deadlines=policy.deadlines(state["clock"]),
        )
        decision = Decision.model_validate(interrupt(request.model_dump(mode="json")))
    else:
        decision = Decision(decision="approve", by="policy", comment="auto-approved: no person needed")
    approved = [c.instance_id for c in keep]
    if decision.instance_ids is not None:
        unknown = set(decision.instance_ids) - set(approved)
        if unknown:
            raise ValueError(f"not in the reviewed plan: {', '.join(sorted(unknown))}")
        chosen = set(decision.instance_ids)
        approved = [i for i in approved if i in chosen]
    if decision.decision != "approve":
        approved = []
    await ctx.store.record(
        [
            _entry(
                state, "decision", "decision", decision.by, state["clock"],
                decision=decision.decision, approved=approved, comment=decision.comment, why_asked=why,
                approvers=decision.approvers or [decision.by],
            )
        ]
    )  # fmt: skip
    await ctx.store.release(wf, [c.instance_id for c in plan_.changes if c.instance_id not in set(approved)])
    _emit(ctx, Decided(decision=decision.decision, by=decision.by, approved=len(approved)))
    if not approved:
        status = {"reject": "rejected", "expire": "expired"}.get(decision.decision, "nothing_to_do")
        return Command(goto="report", update={"status": status, "approved": [], "decision": decision})
    await ctx.store.set_status(wf, "rolling_out")
    return Command(goto="wave", update={"status": "rolling_out", "approved": approved, "decision": decision})


def _waves(state: RolloutState, by_id: dict[str, Change]) -> list[list[str]]:
    """The approved instances, wave by wave (a function of the state and plan: a resumed run agrees)."""
    service_of = {iid: by_id[iid].application for iid in state["approved"]}
    return wave_slices(state["approved"], state["settings"].waves, service_of)


async def wave(state: RolloutState, runtime: Runtime[RolloutContext]) -> dict[str, Any]:
    ctx = runtime.context
    number = len(state.get("waves", [])) + 1
    by_id = {c.instance_id: c for c in (await ctx.plan(state["workflow_id"])).changes}
    ids = _waves(state, by_id)[number - 1]
    changes = [by_id[i] for i in ids]
    started = state["clock"]
    _emit(ctx, WaveStarted(number=number, instances=len(changes)))
    results: list[ChangeResult] = []
    for start in range(0, len(changes), AUDIT_BATCH):
        batch = changes[start : start + AUDIT_BATCH]
        done = await asyncio.to_thread(
            apply_changes, ctx.cloud, state["kind"], state["workflow_id"], number, batch
        )
        await ctx.store.record(_change_entries(state, f"w{number}", done, started))
        results += done
        _emit(ctx, WaveProgress(number=number, done=len(results), instances=len(changes)))
    finished = await asyncio.to_thread(ctx.cloud.now)
    replacements = [r.current_id for r in results if r.current_id != r.instance_id]
    if replacements:
        await ctx.store.claim(state["workflow_id"], replacements)
    result = WaveResult(
        number=number, started_at=started, finished_at=max(finished, started), results=results
    )
    _emit(ctx, WaveDone(number=number, changed=len(results) - result.failed, failed=result.failed))
    return {"waves": [result], "clock": result.finished_at}


async def monitor(
    state: RolloutState, runtime: Runtime[RolloutContext]
) -> Command[Literal["wave", "rollback", "report"]]:
    ctx = runtime.context
    settings, last = state["settings"], state["waves"][-1]
    until = last.finished_at + timedelta(minutes=settings.observe_minutes)
    by_id = {c.instance_id: c for c in (await ctx.plan(state["workflow_id"])).changes}
    changed: dict[str, list[ChangeResult]] = {}
    for r in last.results:
        if r.ok and (application := by_id[r.instance_id].application):
            # A volume's change shows in the machine it serves: that machine is compared with its peers.
            machine = by_id[r.instance_id].machine
            watched = r.model_copy(update={"instance_id": machine, "current_id": machine}) if machine else r
            changed.setdefault(application, []).append(watched)
    apps = sorted(changed)
    _emit(ctx, Monitoring(number=last.number, applications=len(apps), until=until))
    # Waiting *until* a moment, not *for* a period: a monitor re-run after a crash does not wait twice.
    await asyncio.to_thread(ctx.cloud.sleep_until, until)
    checks = await asyncio.to_thread(
        lambda: [compare(ctx.cloud, a, changed[a], last.started_at, last.finished_at, settings) for a in apps]
    )
    too_many_failures = last.failed > settings.max_failed_fraction * len(last.results)
    verdict = WaveCheck(
        number=last.number,
        observed_until=until,
        checks=checks,
        degraded=wave_degraded(checks, settings),
        too_many_failures=too_many_failures,
    )
    await ctx.store.record(
        [
            _entry(
                state,
                f"monitor/w{last.number}",
                "status",
                "optiinfra",
                until,
                **verdict.model_dump(mode="json"),
            )
        ]
    )
    _emit(
        ctx,
        Monitored(
            number=last.number,
            degraded=verdict.degraded,
            too_many_failures=too_many_failures,
            worst_latency_change_pct=worst_latency(checks),
            worst_error_rate_change_pt=worst_errors(checks),
        ),
    )
    update: dict[str, Any] = {"checks": [verdict], "clock": until}
    # The step boundary a cancel waits for.
    if cancelled := await ctx.store.cancellation(state["workflow_id"]):
        update["cancelled_by"] = cancelled["by"]
        if cancelled["rollback"]:
            return Command(goto="rollback", update=update)
        return Command(goto="report", update={**update, "status": "cancelled"})
    if verdict.degraded or too_many_failures:
        return Command(goto="rollback", update=update)
    if last.number < len(_waves(state, by_id)):
        return Command(goto="wave", update=update)
    return Command(goto="report", update={**update, "status": "completed"})


async def rollback(state: RolloutState, runtime: Runtime[RolloutContext]) -> dict[str, Any]:
    ctx = runtime.context
    done = [r for w in state["waves"] for r in w.results if r.ok]
    _emit(ctx, RollbackStarted(instances=len(done)))
    reverted: list[ChangeResult] = []
    for start in range(0, len(done), AUDIT_BATCH):
        batch = await asyncio.to_thread(
            revert_changes, ctx.cloud, state["kind"], state["workflow_id"], done[start : start + AUDIT_BATCH]
        )
        await ctx.store.record(_change_entries(state, "rollback", batch, state["clock"]))
        reverted += batch
    finished = await asyncio.to_thread(ctx.cloud.now)
    _emit(ctx, RolledBack(reverted=sum(r.ok for r in reverted), failed=sum(not r.ok for r in reverted)))
    status = "cancelled" if state.get("cancelled_by") else "rolled_back"
    return {"rolled_back": reverted, "status": status, "clock": max(finished, state["clock"])}


async def report(state: RolloutState, runtime: Runtime[RolloutContext]) -> dict[str, Any]:
    ctx = runtime.context
    status = state["status"]
    reason = _reason(state, status)
    plan_ = await ctx.plan(state["workflow_id"]) if "plan" in state else None
    measured = await asyncio.to_thread(measure, ctx.cloud, state, kept_changes(state))
    final = build_report(state, plan_, status, reason, measured)
    wf = state["workflow_id"]
    await ctx.store.record(
        [_entry(state, "report", "status", "optiinfra", state["clock"], status=status, reason=reason)]
    )
    await ctx.store.release(wf)
    await ctx.store.set_status(wf, status, final.model_dump(mode="json"))
    _emit(ctx, Reported(status=status, monthly_savings=final.monthly_savings, changed=len(final.changed)))
    return {"status": status, "report": final}


def _reason(state: RolloutState, status: str) -> str:
    if status == "cancelled":
        who = f"cancelled by {state['cancelled_by']}"
        if state.get("rolled_back"):
            return f"{who}: {sum(r.ok for r in state['rolled_back'])} change(s) rolled back"
        return f"{who}: the changes made so far are kept" if state.get("waves") else who
    if status == "completed":
        return "every wave passed its quality check"
    if status == "rolled_back":
        check = state["checks"][-1]
        if check.too_many_failures:
            return f"too many changes failed in wave {check.number}"
        worst = [c.application for c in check.checks if c.degraded]
        return f"quality degraded after wave {check.number}: {', '.join(worst)}"
    if status == "rejected":
        decision = state["decision"]
        return f"rejected by {decision.by}" + (f": {decision.comment}" if decision.comment else "")
    if status == "expired":
        return f"{state['decision'].comment or 'no decision in time'}: nothing was changed"
    summary = state.get("plan")
    if summary is not None and not summary.changes:
        return "no change to make in this scope"
    return "every change was vetoed or left out"


def build_rollout_graph() -> StateGraph[RolloutState, RolloutContext, RolloutInput, RolloutOutput]:
    """The uncompiled graph; compile it with a checkpointer (see graphs.checkpointing)."""
    graph = StateGraph(
        RolloutState, context_schema=RolloutContext, input_schema=RolloutInput, output_schema=RolloutOutput
    )
    graph.add_node("plan", plan)
    graph.add_node("review", review, input_schema=ReviewTask)  # type: ignore[call-overload]
    graph.add_node("gate", gate)
    graph.add_node("wave", wave)
    graph.add_node("monitor", monitor)
    graph.add_node("rollback", rollback)
    graph.add_node("report", report)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", fan_out, ["review", "report"])
    graph.add_edge("review", "gate")
    graph.add_edge("wave", "monitor")
    graph.add_edge("rollback", "report")
    graph.add_edge("report", END)
    return graph
