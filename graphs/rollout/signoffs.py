"""Approvals one by one, for a request that needs several people: each recorded as it comes (with its role,
in the audit), refused in words when it cannot count, and — once they are enough — one decision made of
them: the instances every approver approved, by all of them."""

from __future__ import annotations

from datetime import datetime

from graphs.rollout.authority import Caller
from graphs.rollout.models import ApprovalRequest, Decision
from graphs.rollout.store import AuditEntry, RolloutStore, SignOff


def refusal(request: ApprovalRequest, given: list[SignOff], caller: Caller, now: datetime) -> str | None:
    """Why the caller's approval cannot count towards the request, or None when it can."""
    return request.needs.refusal(SignOff(by=caller.name, role=caller.role, at=now), given)


async def sign(
    store: RolloutStore,
    request: ApprovalRequest,
    decision: Decision,
    caller: Caller,
    now: datetime,
    cloud_now: datetime,
) -> Decision | None:
    """Record the caller's approval; returns the decision they add up to, or None while more are needed."""
    mine = SignOff(by=caller.name, role=caller.role, instance_ids=decision.instance_ids,
                   comment=decision.comment, at=now)  # fmt: skip
    given = await store.sign_off(request.workflow_id, mine)
    missing = request.needs.missing(given)
    detail = {"decision": "approve", "role": caller.role, "instance_ids": decision.instance_ids,
              "comment": decision.comment, "still_needed": missing}  # fmt: skip
    await store.record(
        [AuditEntry(workflow_id=request.workflow_id, key=f"approval/{caller.name}", kind="decision",
                    actor=caller.name, at=cloud_now, detail=detail)]
    )  # fmt: skip
    return None if missing is not None else together(given, request.instance_ids)


def together(given: list[SignOff], requested: list[str]) -> Decision:
    """The decision several approvals make: the instances every one of them approved, by all of them."""
    chosen = [set(s.instance_ids) for s in given if s.instance_ids is not None]
    names = [s.by for s in given]
    comments = "; ".join(f"{s.by}: {s.comment}" for s in given if s.comment)
    return Decision(
        decision="approve",
        by=" and ".join(names)[:128],
        instance_ids=[i for i in requested if all(i in c for c in chosen)] if chosen else None,
        comment=comments[:2000] or None,
        approvers=names,
    )
