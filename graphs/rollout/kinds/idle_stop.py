"""Idle stop: a machine nobody uses (idle CPU and network for a week) is stopped, its volumes kept; undone
by starting it again. The engine's "terminate" advice for disposable environments is carried out as a
stop too: a stop can be undone, a termination cannot."""

from __future__ import annotations

import functools

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.execution import change_key, observe, outcome, reverse_each, rollback_key
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.models import ChangeResult
from tools.errors import ProviderError
from tools.models import Instance
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    out = []
    for c in changes:
        try:
            cloud.stop(c.instance_id, change_key(workflow_id, wave, c.instance_id))
            inst, error = cloud.wait_until_stable(c.instance_id), ""
        except ProviderError as exc:  # stopped or not: the cloud says
            error = f"{type(exc).__name__}: {exc}"
            inst = observe(functools.partial(cloud.wait_until_stable, c.instance_id), c.instance_id)
        out.append(outcome(c, c.instance_id, inst.state == "stopped", error or f"ended {inst.state}"))
    return out


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each machine starts again, on its volumes."""

    def undo(r: ChangeResult) -> Instance:
        cloud.start(r.instance_id, rollback_key(workflow_id, r.instance_id))
        return cloud.wait_until_stable(r.instance_id)

    return reverse_each(
        done, undo, lambda r: cloud.wait_until_stable(r.instance_id), lambda r, back: back.state == "running"
    )


def application(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    if c.lone_production_replica:
        return "the only production replica: stopping it takes the service down, idle or not"
    return None


KIND = RolloutKindSpec(
    name="idle_stop",
    title="idle stop",
    recommendation="idle",
    action="stop",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"application": application},
    summary="stop machines nobody uses, keeping their volumes; undone by starting them",
)
