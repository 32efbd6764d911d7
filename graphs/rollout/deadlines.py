"""Approval requests against their deadlines, on the cloud's clock: a deadline near is said once, a level's
deadline passed escalates the request to the next level once, and past the last one the request expires —
the workflow takes an `expire` decision (compare-and-set, like any other: a person's decision sent at the
same moment wins or loses whole) and ends `expired` with nothing changed, once driven on.

Whoever watches — the service's scheduler on one replica, `optiinfra finops check` from cron — sees the same
moments; each is recorded once in the audit (its key), and only the watcher that records it tells people.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from graphs.rollout.approvals import level_at
from graphs.rollout.models import Decision, RolloutSettings
from graphs.rollout.notices import deadline_notice
from graphs.rollout.store import AuditEntry
from graphs.rollout.workflow import Rollouts


class DeadlineEvent(BaseModel):
    workflow_id: str
    event: Literal["approval_deadline_near", "approval_escalated", "expired"]
    level: int
    role: str
    at: datetime


async def watch_deadlines(rollouts: Rollouts, now: datetime) -> list[DeadlineEvent]:
    """Check every request waiting for people at `now`; returns what this call found first. An expired
    workflow has its decision taken, not yet applied: drive it on (`Rollouts.resume`) to end it."""
    found: list[DeadlineEvent] = []
    for stored in await rollouts.store.runs(status="awaiting_approval"):
        run = await rollouts.status(stored.workflow_id)
        request = run.pending
        if request is None or not request.deadlines:
            continue
        wf = stored.workflow_id
        warn = timedelta(hours=RolloutSettings.model_validate(stored.settings).approval.warn_hours)
        current = level_at(request.deadlines, now)
        if current is None:
            last = request.deadlines[-1]
            expire = Decision(
                decision="expire",
                by="optiinfra",
                comment=f"no decision by {last.at.strftime('%Y-%m-%d %H:%M UTC')}, the last deadline",
            )
            if await rollouts.store.take_decision(wf, expire.model_dump(mode="json")):
                await rollouts.store.set_status(wf, "deciding")
                found.append(DeadlineEvent(workflow_id=wf, event="expired", level=last.level, role=last.role,
                                           at=last.at))  # fmt: skip
            continue
        for passed in request.deadlines[: current.level - 1]:  # each level whose time is up, once
            reached = request.deadlines[passed.level]  # the level it escalated to
            entry = AuditEntry(workflow_id=wf, key=f"escalated/{reached.level}", kind="status",
                               actor="optiinfra", at=passed.at,
                               detail={"escalated_to": reached.role, "until": reached.at.isoformat(),
                                       "still_needed": run.waiting_for})  # fmt: skip
            if await rollouts.store.record_once(entry):
                notice = deadline_notice("approval_escalated", request, stored, reached, run.waiting_for)
                await rollouts.notifier.publish(notice)
                found.append(DeadlineEvent(workflow_id=wf, event="approval_escalated", level=reached.level,
                                           role=reached.role, at=passed.at))  # fmt: skip
        if current.at - now <= warn:
            entry = AuditEntry(workflow_id=wf, key=f"deadline_near/{current.level}", kind="status",
                               actor="optiinfra", at=now,
                               detail={"deadline": current.at.isoformat(), "role": current.role})  # fmt: skip
            if await rollouts.store.record_once(entry):
                notice = deadline_notice("approval_deadline_near", request, stored, current, run.waiting_for)
                await rollouts.notifier.publish(notice)
                near = DeadlineEvent(workflow_id=wf, event="approval_deadline_near", level=current.level,
                                     role=current.role, at=current.at)  # fmt: skip
                found.append(near)
    return found
