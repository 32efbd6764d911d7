"""Snapshot cleanup: a snapshot older than the retention is deleted into the cloud's recycle bin, where it
can be recovered (and is still billed) until the bin's retention ends; undone by recovering it."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out, current, take_back
from graphs.rollout.models import ChangeResult
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def shows(c: Change) -> Shown:
        s = current(cloud.get_snapshot, c.instance_id)
        if s is None:
            return True, c.instance_id, "deleted"
        return s.state == "recycle-bin", s.id, f"it is {s.state}"

    return carry_out(
        workflow_id, wave, changes, lambda c, key: cloud.delete_snapshot(c.instance_id, key), shows
    )


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    def shows(r: ChangeResult) -> Shown:
        s = current(cloud.get_snapshot, r.instance_id)
        if s is None:
            return False, r.instance_id, "gone from the recycle bin"
        return s.state == "completed", s.id, f"it is {s.state}"

    return take_back(workflow_id, done, lambda r, key: cloud.recover_snapshot(r.instance_id, key), shows)


def application(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    if c.risk == "high" and c.environment == "production":
        return "the last copy of a production volume's data: kept until its owners say otherwise"
    return None


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    s = current(context.cloud.get_snapshot, c.instance_id)
    if s is None:
        return "it no longer exists"
    return None if s.state == "completed" else f"it is {s.state} already"


KIND = RolloutKindSpec(
    name="snapshot_cleanup",
    title="snapshot cleanup",
    recommendation="old_snapshot",
    action="delete-snapshot",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"application": application, "resource": resource},
    summary="delete snapshots past the retention into the recycle bin; undone by recovering them from it",
    irreversible=True,
    cooling_off="the recycle bin's retention ends",
)
