"""Bucket tier move: a bucket's objects moved to the storage class that costs least for how much of it is
read (colder for one nobody reads, back to the hot class for one read more than a colder class saves).
Undone by moving them back — which the cloud charges again (a copy's reads, the new class's early deletion),
as the plan's reasons say."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out, current, take_back
from graphs.rollout.models import ChangeResult
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def shows(c: Change) -> Shown:
        b = current(cloud.get_bucket, c.instance_id)
        if b is None:
            return False, c.instance_id, "it no longer exists"
        return b.storage_class == c.target, b.name, f"it is in {b.storage_class}"

    def move(c: Change, key: str) -> object:
        return cloud.set_bucket_class(c.instance_id, c.target, key)

    return carry_out(workflow_id, wave, changes, move, shows)


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each bucket's objects moved back to the class they were in (`before`)."""

    def shows(r: ChangeResult) -> Shown:
        b = current(cloud.get_bucket, r.instance_id)
        if b is None:
            return False, r.instance_id, "it no longer exists"
        return b.storage_class == r.before, b.name, f"it is in {b.storage_class}"

    return take_back(
        workflow_id, done, lambda r, key: cloud.set_bucket_class(r.instance_id, r.before, key), shows
    )


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    b = current(context.cloud.get_bucket, c.instance_id)
    if b is None:
        return "it no longer exists"
    return None if b.storage_class == c.current else f"it is in {b.storage_class} now, not {c.current}"


KIND = RolloutKindSpec(
    name="bucket_tier_move",
    title="bucket tier move",
    recommendation="bucket_tier",
    action="change-storage-class",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"resource": resource},
    summary="move buckets to the storage class that costs least for how much of them is read; undone by "
    "moving them back (charged again: a copy's reads, early deletion)",
    measured_over_days=1.0,
    measured_because="a move's one-off charges (transitions, a copy's reads, early deletion) are billed in "
    "its hour, and the plan states them",
)
