"""Volume cleanup: an unattached volume is deleted after a final snapshot of it. The snapshot is the way
back: a rollback makes the volume again from it, and it is kept through the cooling-off period (the old-
snapshot engine leaves it alone until then), during which a person can do the same."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out, current, take_back
from graphs.rollout.models import ChangeResult
from tools.analysis.settings import StorageSettings
from tools.models import FINAL_SNAPSHOT_TAG, RESTORES_TAG, ResourceFilter
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def act(c: Change, key: str) -> object:
        return cloud.delete_volume(c.instance_id, key, final_snapshot=True)

    def shows(c: Change) -> Shown:
        v = current(cloud.get_volume, c.instance_id)
        if v is not None:
            return False, c.instance_id, f"it is still there, {v.state}"
        kept = cloud.list_snapshots(ResourceFilter(tags={FINAL_SNAPSHOT_TAG: c.instance_id}))
        if not kept:
            return True, c.instance_id, "deleted, and no final snapshot of it was found"
        return True, kept[0].id, f"deleted; final snapshot {kept[0].id}"

    return carry_out(workflow_id, wave, changes, act, shows)


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each volume is made again from its final snapshot: a new volume (a new id), unattached as it was."""

    def undo(r: ChangeResult, key: str) -> object:
        return cloud.restore_volume(r.current_id, key, tags={RESTORES_TAG: r.instance_id})

    def shows(r: ChangeResult) -> Shown:
        again = cloud.list_volumes(ResourceFilter(tags={RESTORES_TAG: r.instance_id}))
        if again:
            return True, again[0].id, f"made again as {again[0].id}"
        return False, r.current_id, "not made again"

    return take_back(workflow_id, done, undo, shows)


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    v = current(context.cloud.get_volume, c.instance_id)
    if v is None:
        return "it no longer exists"
    if v.state != "available":
        return f"it was attached again since the plan (to {v.attached_to})"
    return None


KIND = RolloutKindSpec(
    name="volume_cleanup",
    title="volume cleanup",
    recommendation="unattached_volume",
    action="delete-volume",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"resource": resource},
    summary="delete unattached volumes after a final snapshot of each; undone by making them again from it",
    irreversible=True,
    cooling_off=f"its final snapshot is gone ({StorageSettings().cooling_off_days:g} days kept)",
)
