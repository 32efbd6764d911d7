"""Rightsizing: an over-provisioned machine is stopped, given a cheaper type and started again; undone by
the same on its former type. A resize that cannot start again is put back, never left stopped."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.execution import (
    OutcomeUnknownError,
    change_key,
    failed,
    observe,
    outcome,
    reverse_each,
    rollback_key,
)
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.models import ChangeResult
from tools.analysis.tolerance import resize_veto
from tools.errors import ProviderError
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    return [_resize(cloud, change_key(workflow_id, wave, c.instance_id), c) for c in changes]


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each machine returns to its former type."""
    return reverse_each(
        done,
        lambda r: cloud.resize(r.instance_id, r.before, rollback_key(workflow_id, r.instance_id)),
        lambda r: cloud.wait_until_stable(r.instance_id),
        lambda r, back: back.state == "running" and back.instance_type == r.before,
    )


def _resize(cloud: CloudProvider, key: str, c: Change) -> ChangeResult:
    try:
        inst = cloud.resize(c.instance_id, c.target, key)
    except ProviderError as exc:
        seen = observe(lambda: cloud.wait_until_stable(c.instance_id), c.instance_id)
        if seen.state == "running" and seen.instance_type == c.target:
            inst = seen  # carried out: only the call's answer was lost
        else:
            note = _restore(cloud, key, c)
            after = observe(lambda: cloud.wait_until_stable(c.instance_id), c.instance_id)
            if not (after.state == "running" and after.instance_type == c.current):
                # Neither changed nor put back: no verdict. A resume repeats the resize under its keys.
                raise OutcomeUnknownError(
                    f"{c.instance_id} is {after.state} on {after.instance_type} after a failed resize"
                    f" ({type(exc).__name__}: {exc}){note}"
                ) from exc
            return failed(c, exc, note)
    ok = inst.state == "running" and inst.instance_type == c.target
    return outcome(c, c.instance_id, ok, f"ended {inst.state} on {inst.instance_type}")


def _restore(cloud: CloudProvider, key: str, c: Change) -> str:
    """After a failed resize: never leave the machine stopped or on a half-applied type. Returns a note."""
    try:
        inst = cloud.get_instance(c.instance_id)
        if inst.state == "running" and inst.instance_type == c.current:
            return ""
        back = cloud.resize(c.instance_id, c.current, f"{key}/restore")
        return f"; restored to {back.instance_type}, {back.state}"
    except ProviderError as exc:
        return f"; could not be restored ({type(exc).__name__}: {exc})"


def performance(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    return resize_veto(
        c.cpu_p95_pct, c.projected_cpu_pct, c.projected_memory_pct, c.projected_peak_cpu_pct, policy
    )


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    """The target must be sold in the machine's region, with the GPUs it has now."""
    target, now = (
        context.offer(c.provider, c.region, c.target),
        context.offer(c.provider, c.region, c.instance_type),
    )
    if target is None:
        return f"{c.target} is not offered in {c.provider} {c.region}"
    if now is not None and target.gpu_count != now.gpu_count:
        return f"{c.target} has {target.gpu_count} GPUs, {c.instance_type} {now.gpu_count}"
    return None


def application(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    if c.lone_production_replica:
        return "the only production replica: the restart a resize needs is an outage"
    return None


KIND = RolloutKindSpec(
    name="rightsizing",
    title="rightsizing",
    recommendation="rightsize",
    action="resize",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"performance": performance, "resource": resource, "application": application},
    summary="move over-provisioned machines to a cheaper type (stop, resize, start); undone the same way",
)
