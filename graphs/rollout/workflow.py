"""Running rollouts: start, resume after a crash, decide a pending approval, read status and audit.

The public functions the CLI, the demos and the HTTP service share. A workflow's id is its LangGraph
thread; its checkpoints and its rows (run, audit, claims) live in the one database the URL names.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.review import RolloutKind, RolloutPlan
from graphs.checkpointing import open_checkpointer
from graphs.database import Database
from graphs.notifier import Notifier
from graphs.rollout import signoffs
from graphs.rollout.authority import Caller, DecisionRules, NotPermittedError, permit, permit_decision
from graphs.rollout.events import AwaitingApproval, Failed, Progress
from graphs.rollout.execution import OutcomeUnknownError
from graphs.rollout.graph import RolloutContext, build_rollout_graph
from graphs.rollout.kinds import UnknownKindError, kind_of
from graphs.rollout.models import (
    FINAL_STATUSES,
    STATE_TYPES,
    ApprovalRequest,
    Decision,
    RolloutInput,
    RolloutReport,
    RolloutSettings,
    RolloutState,
    Scope,
)
from graphs.rollout.notices import approval_notice, ended_notice, failed_notice
from graphs.rollout.report import kept_changes
from graphs.rollout.savings import MeasuredSavings, measure
from graphs.rollout.store import AuditEntry, RolloutStore, SignOff, WorkflowRun
from tools.analysis.settings import AnalysisSettings
from tools.errors import ProviderError
from tools.provider import CloudProvider

# Each wave is two steps (wave, monitor); this bounds runs of a hundred waves, not a runaway loop.
_RECURSION_LIMIT = 250


class RolloutError(Exception):
    """A request about a workflow that cannot be honoured as asked; the message says why."""


class WorkflowNotFoundError(RolloutError):
    """No workflow with this id in the database."""


class WorkflowExistsError(RolloutError):
    """A new workflow was given the id of an existing one."""


class NothingPendingError(RolloutError):
    """A decision was sent to a workflow that is not waiting for one."""


class DecisionTakenError(NothingPendingError):
    """Another decision reached the workflow first: it takes that one, and only that one."""


class NotEndedError(RolloutError):
    """A question only an ended workflow can answer (what it saved) was asked of one still going."""


class WorkflowFailedError(RolloutError):
    """The cloud failed the workflow (unreachable, or a change's outcome could not be read back): it is
    `failed`, with the reason in its status, events and audit, and `resume` retries it."""


class InvalidScopeError(RolloutError):
    """A rollout asked for instances the cloud does not have: named, never silently dropped."""


class InvalidKindError(RolloutError):
    """A rollout kind the registry does not have (the message lists the kinds it has)."""


class InvalidDecisionError(RolloutError):
    """A decision names instances the pending request does not hold."""


class ApprovedAlreadyError(NothingPendingError):
    """The person approved this request already; it needs someone else's approval."""


class RolloutRun(BaseModel):
    """Where a workflow stands."""

    workflow_id: str
    kind: RolloutKind
    status: str
    requested_by: str
    planned: int | None = None
    approved: int | None = None
    waves_done: int = 0
    pending: ApprovalRequest | None = None
    signoffs: list[SignOff] = Field(default_factory=list, description="Approvals given so far, when several")
    waiting_for: str | None = Field(None, description="What the pending request still needs, in words")
    report: RolloutReport | None = None


class Rollouts:
    """Rollout workflows on one database; `cloud` is needed only to run them, not to read them."""

    def __init__(
        self,
        db: Database,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        cloud: CloudProvider | None,
        analysis: AnalysisSettings | None = None,
        rules: DecisionRules | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.store = RolloutStore(db)
        self.graph = graph
        self.cloud = cloud
        self.analysis = analysis or AnalysisSettings()
        self.rules = rules or DecisionRules()
        self.notifier = notifier or Notifier(db)

    async def start(
        self,
        kind: RolloutKind,
        scope: Scope | None = None,
        settings: RolloutSettings | None = None,
        *,
        caller: Caller,
        workflow_id: str | None = None,
        cloud_url: str | None = None,
        on_progress: Progress | None = None,
    ) -> RolloutRun:
        """Plan, review and carry out a rollout until it ends or waits for a person.

        `cloud_url` is remembered so that a later resume or decision can find the same cloud.
        """
        workflow_id = await self.register(
            kind, scope, settings, caller=caller, workflow_id=workflow_id, cloud_url=cloud_url
        )
        return await self.resume(workflow_id, on_progress)

    async def register(
        self,
        kind: RolloutKind,
        scope: Scope | None = None,
        settings: RolloutSettings | None = None,
        *,
        caller: Caller,
        workflow_id: str | None = None,
        cloud_url: str | None = None,
    ) -> str:
        """Record a new workflow without running it (`resume` runs it from the start): its id, at once.
        The caller must be allowed to start rollouts; they are its requester."""
        permit(caller, "start")
        try:
            kind = kind_of(kind).name
        except UnknownKindError as exc:
            raise InvalidKindError(str(exc)) from None
        if self.cloud is not None and scope is not None and scope.instance_ids:
            await self._known(scope.instance_ids)
        workflow_id = workflow_id or f"wf-{secrets.token_hex(5)}"
        if await self.store.run(workflow_id) is not None:
            raise WorkflowExistsError(f"workflow {workflow_id} exists already: resume it or pick another id")
        scope, settings = scope or Scope(), settings or RolloutSettings()
        if self.rules.distinct_approver:  # the deployment's rules travel with the workflow to every door
            settings = settings.model_copy(update={"distinct_approver": True})
        if self.rules.approval is not None:
            settings = settings.model_copy(update={"approval": self.rules.approval})
        now = datetime.now(UTC)
        await self.store.add_run(
            WorkflowRun(
                workflow_id=workflow_id,
                kind=kind,
                status="planning",
                requested_by=caller.name,
                scope=scope.model_dump(mode="json"),
                settings=settings.model_dump(mode="json"),
                cloud=cloud_url,
                created_at=now,
                updated_at=now,
            )
        )
        return workflow_id

    async def resume(self, workflow_id: str, on_progress: Progress | None = None) -> RolloutRun:
        """Run a registered workflow, or carry on from its last checkpoint (after a crash); a finished or
        waiting workflow is left as is."""
        await self.stored(workflow_id)
        snapshot = await self.graph.aget_state(_config(workflow_id))
        # Done means reported: `snapshot.next` alone is empty too when a step's writes were saved but the
        # process died before the checkpoint that would have named the next step.
        if "report" in snapshot.values:
            return await self.status(workflow_id)
        if snapshot.interrupts:
            # Waiting for a person: carried on only with the decision taken for it, if one was.
            taken = await self.store.decision(workflow_id)
            if taken is not None:
                await self._drive(Command(resume=taken), workflow_id, on_progress)
            return await self.status(workflow_id)
        if snapshot.values:
            stored = await self.stored(workflow_id)
            if stored.status == "failed":  # retried: it runs again from its last checkpoint
                await self.store.set_status(workflow_id, str(snapshot.values.get("status", "planning")))
            await self._drive(None, workflow_id, on_progress)
        else:  # registered, or killed before its first checkpoint: start from what was asked
            stored = await self.stored(workflow_id)
            payload = RolloutInput(
                workflow_id=workflow_id,
                kind=stored.kind,
                scope=Scope.model_validate(stored.scope),
                settings=RolloutSettings.model_validate(stored.settings),
                requested_by=stored.requested_by,
            )
            await self._drive(payload, workflow_id, on_progress)
        return await self.status(workflow_id)

    async def decide(
        self, workflow_id: str, decision: Decision, caller: Caller, on_progress: Progress | None = None
    ) -> RolloutRun:
        """Answer the pending approval: approve (all or `decision.instance_ids`) or reject, and carry the
        workflow on. The decision is recorded with the caller's name."""
        await self.take_decision(workflow_id, decision, caller)
        return await self.resume(workflow_id, on_progress)

    async def take_decision(self, workflow_id: str, decision: Decision, caller: Caller) -> Decision | None:
        """Make `decision` the one the workflow takes, without driving it (`resume` applies it). Of several
        sent at once, through any interface or replica, exactly one is taken; the others raise
        DecisionTakenError. When the plan needs several approvers, an approval is recorded and the decision
        is taken with the one that completes them; until then None (`status().waiting_for` says what is
        missing). A rejection ends it at once."""
        decision, pending = await self._checked(workflow_id, decision, caller)
        if decision.decision == "approve" and pending.needs.approvers > 1:
            now = datetime.now(UTC)
            completed = await signoffs.sign(
                self.store, pending, decision, caller, now, await self._cloud_now(now)
            )
            if completed is None:
                return None
            decision = completed
        if not await self.store.take_decision(workflow_id, decision.model_dump(mode="json")):
            taken = await self.store.decision(workflow_id) or {}
            if caller.name in taken.get("approvers", []):  # completed by a sign-off sent at the same time
                return Decision.model_validate(taken)
            raise await self._taken(workflow_id)
        await self.store.set_status(workflow_id, "deciding")
        return decision

    async def cancel(self, workflow_id: str, caller: Caller, rollback: bool = True) -> RolloutRun:
        """Ask the workflow to stop at its next step boundary (after planning, or after a wave's quality
        check), rolling back what it changed, or keeping it with `rollback=False`; one waiting for a person
        stops when carried on (`resume`), with nothing changed. Takes the approver role, like a decision."""
        permit(caller, "decide")
        run = await self.status(workflow_id)
        if run.status in FINAL_STATUSES:
            raise NothingPendingError(f"workflow {workflow_id} has ended ({run.status}): nothing to cancel")
        if not await self.store.request_cancel(workflow_id, caller.name, rollback):
            raise NothingPendingError(f"workflow {workflow_id} is being cancelled already")
        if run.pending is not None:  # the gate, carried on, sees the cancellation before anything changes
            stop = Decision(decision="reject", by=caller.name, comment="cancelled")
            await self.store.take_decision(workflow_id, stop.model_dump(mode="json"))
        return await self.status(workflow_id)

    async def _cloud_now(self, otherwise: datetime) -> datetime:
        """The cloud's time, which the audit keeps (the wall clock's when no cloud is at hand)."""
        return await asyncio.to_thread(self.cloud.now) if self.cloud is not None else otherwise

    async def _known(self, instance_ids: list[str]) -> None:
        """Raise InvalidScopeError naming the ids the cloud has never heard of."""
        assert self.cloud is not None
        listed = {i.id for i in await asyncio.to_thread(self.cloud.list_instances)}
        unknown = [i for i in dict.fromkeys(instance_ids) if i not in listed]
        if unknown:
            more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
            raise InvalidScopeError(f"no such instance in this cloud: {', '.join(unknown[:20])}{more}")

    async def _taken(self, workflow_id: str) -> DecisionTakenError:
        taken = await self.store.decision(workflow_id) or {}
        return DecisionTakenError(
            f"workflow {workflow_id} was decided already: {taken.get('decision')} by {taken.get('by')}"
        )

    async def check_decision(self, workflow_id: str, decision: Decision, caller: Caller) -> Decision:
        """The decision as it will be recorded, if the workflow waits for one and the caller may give it;
        otherwise the error that says why not (NotPermittedError, NothingPendingError,
        InvalidDecisionError). A service checks here before it answers, then decides in the background."""
        return (await self._checked(workflow_id, decision, caller))[0]

    async def _checked(
        self, workflow_id: str, decision: Decision, caller: Caller
    ) -> tuple[Decision, ApprovalRequest]:
        """`check_decision`, and the request it answers."""
        stored = await self.stored(workflow_id)
        run = await self._status_of(stored)
        asked = RolloutSettings.model_validate(stored.settings)
        if decision.decision == "expire":
            raise InvalidDecisionError("a request expires by its deadline, not by anyone's decision")
        rules = DecisionRules(self.rules.distinct_approver or asked.distinct_approver)
        permit_decision(caller, decision.decision, run.requested_by, rules)
        if run.status == "deciding" or (run.pending is None and await self.store.decision(workflow_id)):
            raise await self._taken(workflow_id)
        if run.pending is None:
            raise NothingPendingError(
                f"workflow {workflow_id} is not waiting for a decision (it is {run.status})"
            )
        if decision.instance_ids is not None:
            unknown = sorted(set(decision.instance_ids) - set(run.pending.instance_ids))
            if unknown:
                shown = ", ".join(unknown[:20]) + (
                    f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
                )
                raise InvalidDecisionError(f"not among the instances awaiting approval: {shown}")
        if decision.decision == "approve" and run.pending.needs.approvers > 1:
            refused = signoffs.refusal(run.pending, run.signoffs, caller, datetime.now(UTC))
            if refused is not None and any(s.by == caller.name for s in run.signoffs):
                raise ApprovedAlreadyError(refused)
            if refused is not None:
                raise NotPermittedError(refused)
        return decision.model_copy(update={"by": caller.name}), run.pending

    async def status(self, workflow_id: str) -> RolloutRun:
        return await self._status_of(await self.stored(workflow_id))

    async def _status_of(self, stored: WorkflowRun) -> RolloutRun:
        workflow_id = stored.workflow_id
        snapshot = await self.graph.aget_state(_config(workflow_id))
        values = snapshot.values
        pending = (
            ApprovalRequest.model_validate(snapshot.interrupts[0].value) if snapshot.interrupts else None
        )
        # Decided but not yet carried on (its driver is on the way, or a resume will be): nothing waits.
        decided = pending is not None and await self.store.decision(workflow_id) is not None
        pending = None if decided else pending
        given = await self.store.signoffs(workflow_id) if pending and pending.needs.approvers > 1 else []
        summary = values.get("plan")
        return RolloutRun(
            workflow_id=workflow_id,
            kind=stored.kind,
            status="deciding" if decided else _shown_status(values, pending is not None, stored.status),
            requested_by=stored.requested_by,
            planned=summary.changes if summary else None,
            approved=len(values["approved"]) if "approved" in values else None,
            waves_done=len(values.get("waves", [])),
            pending=pending,
            signoffs=given,
            waiting_for=pending.needs.missing(given) if pending else None,
            report=values.get("report"),
        )

    async def savings(self, workflow_id: str) -> MeasuredSavings:
        """What the ended rollout's kept changes save, as the cloud's bill shows it now: a schedule's
        once the week after its last wave has passed, any kind's again whenever asked."""
        await self.stored(workflow_id)
        if self.cloud is None:
            raise RuntimeError("reading the bill needs a cloud provider")
        state = cast(RolloutState, (await self.graph.aget_state(_config(workflow_id))).values)
        if "report" not in state:
            raise NotEndedError(f"workflow '{workflow_id}' has not ended: its savings are not measured yet")
        return await asyncio.to_thread(measure, self.cloud, state, kept_changes(state))

    async def position(self, workflow_id: str) -> str:
        """Where a resume carries the workflow on from, in words."""
        await self.stored(workflow_id)
        snapshot = await self.graph.aget_state(_config(workflow_id))
        values = snapshot.values
        if "report" in values:
            return "it has ended: nothing to resume"
        if snapshot.interrupts:
            decided = await self.store.decision(workflow_id) is not None
            return "applying the decision taken" if decided else "it waits for a decision"
        if not values:
            return "from the start (planning)"
        waves = len(values.get("waves", []))
        step = snapshot.next[0] if snapshot.next else "report"
        where = {"plan": "planning", "review": "the agents' review", "gate": "the approval gate",
                 "wave": f"wave {waves + 1}", "monitor": f"the quality check of wave {waves}",
                 "rollback": "the rollback", "report": "the report"}  # fmt: skip
        return f"at {where.get(step, step)}"

    async def plan(self, workflow_id: str) -> RolloutPlan | None:
        """The workflow's full plan (None while it is still being made)."""
        await self.stored(workflow_id)
        stored = await self.store.plan(workflow_id)
        return RolloutPlan.model_validate(stored) if stored else None

    async def audit(self, workflow_id: str) -> list[AuditEntry]:
        await self.stored(workflow_id)
        return await self.store.audit(workflow_id)

    async def stored(self, workflow_id: str) -> WorkflowRun:
        stored = await self.store.run(workflow_id)
        if stored is None:
            raise WorkflowNotFoundError(f"no workflow '{workflow_id}' in this database")
        return stored

    async def _drive(self, payload: Any, workflow_id: str, on_progress: Progress | None) -> None:
        if self.cloud is None:
            raise RuntimeError("running a rollout needs a cloud provider")
        context = RolloutContext(
            cloud=self.cloud, store=self.store, analysis=self.analysis, on_progress=on_progress
        )
        config = _config(workflow_id)
        try:
            await self.graph.ainvoke(payload, config, context=context)
        except (ProviderError, OutcomeUnknownError) as exc:
            raise await self._failed(workflow_id, f"{type(exc).__name__}: {exc}", on_progress) from exc
        # Said here rather than in the gate, which runs again when the person's answer resumes it.
        snapshot = await self.graph.aget_state(config)
        stored = await self.stored(workflow_id)
        if snapshot.interrupts and await self.store.decision(workflow_id) is None:
            request = ApprovalRequest.model_validate(snapshot.interrupts[0].value)
            await self.notifier.publish(approval_notice(request, stored))
            if on_progress is not None:
                waiting = request.model_dump(
                    include={"instance_ids", "monthly_savings", "risk", "why", "needs"}
                )
                on_progress(AwaitingApproval.model_validate(waiting))
        elif (report := snapshot.values.get("report")) is not None:
            notice = ended_notice(report, stored)
            if notice is not None:
                await self.notifier.publish(notice)

    async def _failed(
        self, workflow_id: str, reason: str, on_progress: Progress | None
    ) -> WorkflowFailedError:
        """Mark the workflow failed, with its reason in the audit and its events: said, never only logged."""
        await self.store.set_status(workflow_id, "failed")
        now = datetime.now(UTC)
        detail = {"status": "failed", "reason": reason}
        await self.store.record(
            [AuditEntry(workflow_id=workflow_id, key=f"failed/{now.isoformat()}", kind="status",
                        actor="optiinfra", at=now, detail=detail)]
        )  # fmt: skip
        if on_progress is not None:
            on_progress(Failed(reason=reason))
        await self.notifier.publish(failed_notice(await self.stored(workflow_id), reason, now))
        return WorkflowFailedError(
            f"workflow {workflow_id} failed: {reason}. `resume` retries it from its last checkpoint"
        )


def _shown_status(values: dict[str, Any], pending: bool, stored: str) -> str:
    """The state's status names the outcome as soon as it is decided; until the report is written, the
    workflow is still `reporting` (a crash in between leaves it to a resume to finish)."""
    if pending:
        return "awaiting_approval"
    if stored == "failed":
        return stored
    status = str(values.get("status", stored))
    return "reporting" if status in FINAL_STATUSES and "report" not in values else status


def _config(workflow_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": workflow_id}, "recursion_limit": _RECURSION_LIMIT}


@asynccontextmanager
async def open_rollouts(
    db_url: str,
    cloud: CloudProvider | None = None,
    analysis: AnalysisSettings | None = None,
    rules: DecisionRules | None = None,
    public_url: str | None = None,
) -> AsyncIterator[Rollouts]:
    """Rollouts on the database at `db_url` (its tables and checkpoints created when missing); their
    notices go to the channels kept there, with links to `public_url` (the service's address) if given."""
    db = await Database.open(db_url)
    try:
        async with open_checkpointer(db_url, STATE_TYPES) as saver:
            graph = build_rollout_graph().compile(checkpointer=saver)
            yield Rollouts(db, graph, cloud, analysis, rules, Notifier(db, public_url))
    finally:
        await db.close()
