"""Spot migration: an on-demand machine is replaced by a spot one of the same type (the original retires
once the replacement runs); undone by migrating back to on-demand."""

from __future__ import annotations

import functools

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.execution import (
    change_key,
    failed,
    observe,
    outcome,
    replacement_of,
    reverse_each,
    rollback_key,
)
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.models import ChangeResult
from tools.analysis.tolerance import spot_band_veto, spot_peer_veto, spot_service_veto
from tools.errors import ProviderError
from tools.models import Instance, Migration
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    """Launch every replacement first, then wait: boots overlap, as they would in a real rollout."""
    launched: list[tuple[Change, Migration | ProviderError]] = []
    for c in changes:
        try:
            launched.append(
                (c, cloud.migrate(c.instance_id, "spot", change_key(workflow_id, wave, c.instance_id)))
            )
        except ProviderError as exc:
            launched.append((c, exc))
    out = []
    for c, answer in launched:
        replacement: Instance | None = None
        failure: ProviderError | None = None
        try:
            if isinstance(answer, ProviderError):
                raise answer
            replacement = cloud.wait_until_stable(answer.replacement.id)
        except ProviderError as exc:
            failure = exc
            replacement = observe(functools.partial(replacement_of, cloud, c.instance_id), c.instance_id)
        if replacement is None:
            assert failure is not None  # a migration that answered launched a replacement
            out.append(failed(c, failure))
            continue
        ended = f"replacement {replacement.id} ended {replacement.state}"
        out.append(outcome(c, replacement.id, replacement.state == "running", ended))
    return out


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each spot replacement migrates back to on-demand."""

    def undo(r: ChangeResult) -> Instance:
        moved = cloud.migrate(r.current_id, "on-demand", rollback_key(workflow_id, r.instance_id))
        return cloud.wait_until_stable(moved.replacement.id)

    return reverse_each(
        done, undo, lambda r: replacement_of(cloud, r.current_id), lambda r, back: back.state == "running"
    )


def performance(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    return spot_peer_veto(c.cpu_p95_pct, c.replicas, policy)


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    offer = context.offer(c.provider, c.region, c.instance_type)
    band = offer.interruption_band if offer else ">20%"
    reason = spot_band_veto(band, c.environment == "production", policy)
    return f"spot {c.instance_type} is {reason}" if reason else None


def application(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    return spot_service_veto(c.service_tags, policy)


KIND = RolloutKindSpec(
    name="spot_migration",
    title="spot migration",
    recommendation="spot",
    action="migrate-to-spot",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"performance": performance, "resource": resource, "application": application},
    summary="replace on-demand machines by spot ones of the same type; undone by moving back to on-demand",
)
