"""What a rollout tells people: its approval request (and the request's deadlines), and how it ended.

Each notice's key names the event once — a workflow's request, a level's escalation, its end — so that a
step re-run after a crash, or two replicas seeing the same deadline, send it once.
"""

from __future__ import annotations

from datetime import datetime

from graphs.rollout.approvals import Deadline
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import ApprovalRequest, RolloutReport, Scope
from graphs.rollout.report import report_text
from graphs.rollout.store import WorkflowRun
from tools.channels.notice import EventKind, Notice, Severity
from tools.models import InstanceFilter

_ENDINGS: dict[str, tuple[EventKind, Severity, str]] = {
    "completed": ("rollout_completed", "info", "completed"),
    "rolled_back": ("rollout_rolled_back", "warning", "was rolled back"),
    "expired": ("rollout_expired", "warning", "expired"),
}


def approval_notice(request: ApprovalRequest, run: WorkflowRun) -> Notice:
    kind = kind_of(request.kind)
    needs = request.needs
    who = f"{needs.approvers} approvers" if needs.approvers > 1 else "an approver"
    if needs.admins:
        who += f", {needs.admins} of them admin(s)"
    deadline = f" by {_when(request.deadlines[0].at)}" if request.deadlines else ""
    text = (
        f"{run.requested_by} asks to carry out a {kind.title} of {len(request.instance_ids)} instances, "
        f"{kind.monthly(request.monthly_savings)}, {request.risk} risk. It needs {who}{deadline}. "
        f"Why a person: {'; '.join(request.why)}."
    )
    return Notice(
        key=f"approval_requested/{run.workflow_id}",
        event="approval_requested",
        severity="warning",
        title=f"Approval needed: {kind.title} {run.workflow_id}",
        text=text,
        at=request.requested_at or run.updated_at,
        scope=_scope(run),
        link=f"/api/v1/workflows/{run.workflow_id}",
        action=f"optiinfra workflow approve {run.workflow_id} --by NAME  (or reject)",
        facts={"workflow_id": run.workflow_id, "kind": request.kind, "instances": len(request.instance_ids),
               "monthly_usd": request.monthly_savings, "risk": request.risk,
               "approvers": needs.approvers, "admins": needs.admins},
    )  # fmt: skip


def deadline_notice(
    event: EventKind, request: ApprovalRequest, run: WorkflowRun, deadline: Deadline, waiting_for: str | None
) -> Notice:
    """The request's deadline is near (`approval_deadline_near`), or has passed and the request now goes to
    the next level (`approval_escalated`)."""
    kind = kind_of(request.kind)
    missing = f" It still needs {waiting_for}." if waiting_for else ""
    if event == "approval_escalated":
        title = f"Escalated to {deadline.role}s: {kind.title} {run.workflow_id}"
        text = (
            f"Nobody decided the {kind.title} {run.workflow_id} ({kind.monthly(request.monthly_savings)}) in "
            f"time: it is now with the {deadline.role}s, until {_when(deadline.at)}, when it expires with "
            f"nothing changed unless decided.{missing}"
            if deadline.level == len(request.deadlines)
            else f"Nobody decided the {kind.title} {run.workflow_id} in time: it is now with the "
            f"{deadline.role}s, until {_when(deadline.at)}.{missing}"
        )
        severity: Severity = "critical"
    else:
        last = deadline.level == len(request.deadlines)
        title = f"Deadline near: {kind.title} {run.workflow_id}"
        text = (
            f"The {kind.title} {run.workflow_id} ({kind.monthly(request.monthly_savings)}) waits for a "
            f"decision; at {_when(deadline.at)} it "
            + ("expires, with nothing changed." if last else f"escalates past the {deadline.role}s.")
            + missing
        )
        severity = "warning"
    return Notice(
        key=f"{event}/{run.workflow_id}/{deadline.level}",
        event=event,
        severity=severity,
        title=title,
        text=text,
        at=deadline.at,
        scope=_scope(run),
        link=f"/api/v1/workflows/{run.workflow_id}",
        action=f"optiinfra workflow approve {run.workflow_id} --by NAME  (or reject)",
        facts={"workflow_id": run.workflow_id, "level": deadline.level, "role": deadline.role,
               "deadline": deadline.at.isoformat()},
    )  # fmt: skip


def ended_notice(report: RolloutReport, run: WorkflowRun) -> Notice | None:
    """Completed, rolled back or expired (None for the endings nobody needs telling about)."""
    if report.status not in _ENDINGS:
        return None
    event, severity, said = _ENDINGS[report.status]
    kind = kind_of(report.kind)
    return Notice(
        key=f"{event}/{report.workflow_id}",
        event=event,
        severity=severity,
        title=f"{kind.title.capitalize()} {report.workflow_id} {said}",
        text=report_text(report),
        at=run.updated_at,
        scope=_scope(run),
        link=f"/api/v1/workflows/{report.workflow_id}",
        facts={"workflow_id": report.workflow_id, "status": report.status, "changed": len(report.changed),
               "monthly_usd": report.monthly_savings, "rolled_back": len(report.rolled_back)},
    )  # fmt: skip


def failed_notice(run: WorkflowRun, reason: str, at: datetime) -> Notice:
    kind = kind_of(run.kind)
    return Notice(
        key=f"rollout_failed/{run.workflow_id}/{at.isoformat()}",
        event="rollout_failed",
        severity="critical",
        title=f"{kind.title.capitalize()} {run.workflow_id} failed",
        text=f"The {kind.title} {run.workflow_id} stopped: {reason}. Resuming retries it from its last "
        "checkpoint, repeating no change.",
        at=at,
        scope=_scope(run),
        link=f"/api/v1/workflows/{run.workflow_id}",
        action=f"optiinfra workflow resume {run.workflow_id}",
        facts={"workflow_id": run.workflow_id, "reason": reason},
    )


def _scope(run: WorkflowRun) -> InstanceFilter:
    return Scope.model_validate(run.scope).filter()


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
