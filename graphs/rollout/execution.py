"""Carrying out a wave's changes, and taking them back, through a CloudProvider.

Safe to repeat after a crash: every call carries an idempotency key derived from the workflow, the wave
and the instance, so a re-run replays what already happened (same replacement ids, no second resize)
instead of doing it again. These functions block; the graph runs them in a worker thread.
"""

from __future__ import annotations

import math

from agents.review import Change
from graphs.rollout.models import ChangeResult
from tools.errors import ProviderError
from tools.models import Migration
from tools.provider import CloudProvider


def change_key(workflow_id: str, wave: int, instance_id: str) -> str:
    return f"{workflow_id}/w{wave}/{instance_id}"


def rollback_key(workflow_id: str, instance_id: str) -> str:
    return f"{workflow_id}/rollback/{instance_id}"


def wave_slices(instance_ids: list[str], waves: tuple[float, ...]) -> list[list[str]]:
    """Cumulative shares → the instances each wave adds: at least one each, no empty waves."""
    n, done, out = len(instance_ids), 0, []
    for share in waves:
        end = min(n, max(done + 1, math.ceil(share * n - 1e-9)))
        if end > done:
            out.append(instance_ids[done:end])
            done = end
    return out


def apply_changes(
    cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]
) -> list[ChangeResult]:
    if not changes:
        return []
    if changes[0].action == "migrate-to-spot":
        return _migrate(cloud, workflow_id, wave, changes)
    return [_resize(cloud, change_key(workflow_id, wave, c.instance_id), c) for c in changes]


def revert_changes(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Undo kept changes: a spot replacement migrates back to on-demand, a resize returns to its type."""
    out = []
    for r in done:
        key = rollback_key(workflow_id, r.instance_id)
        try:
            if r.action == "migrate-to-spot":
                m = cloud.migrate(r.current_id, "on-demand", key)
                back = cloud.wait_until_stable(m.replacement.id)
                ok = back.state == "running"
                current = m.replacement.id
            else:
                back = cloud.resize(r.instance_id, r.before, key)
                ok = back.state == "running" and back.instance_type == r.before
                current = r.instance_id
            error = None if ok else f"ended {back.state} on {back.instance_type}"
        except ProviderError as exc:
            ok, current, error = False, r.current_id, f"{type(exc).__name__}: {exc}"
        out.append(
            ChangeResult(
                instance_id=r.instance_id,
                current_id=current,
                action=f"rollback-{r.action}",
                before=r.after,
                after=r.before,
                ok=ok,
                error=error,
            )
        )
    return out


def _migrate(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
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
    for c, outcome in launched:
        if isinstance(outcome, ProviderError):
            out.append(_failed(c, outcome))
            continue
        try:
            replacement = cloud.wait_until_stable(outcome.replacement.id)
        except ProviderError as exc:
            out.append(_failed(c, exc))
            continue
        ended = f"replacement {replacement.id} ended {replacement.state}"
        out.append(_outcome(c, replacement.id, replacement.state == "running", ended))
    return out


def _resize(cloud: CloudProvider, key: str, c: Change) -> ChangeResult:
    try:
        inst = cloud.resize(c.instance_id, c.target, key)
    except ProviderError as exc:
        return _failed(c, exc, _restore(cloud, key, c))
    ok = inst.state == "running" and inst.instance_type == c.target
    return _outcome(c, c.instance_id, ok, f"ended {inst.state} on {inst.instance_type}")


def _outcome(c: Change, current_id: str, ok: bool, otherwise: str) -> ChangeResult:
    """The change's result: kept (its savings count) or not, with `otherwise` saying why not."""
    return ChangeResult(
        instance_id=c.instance_id,
        current_id=current_id,
        action=c.action,
        before=c.current,
        after=c.target,
        ok=ok,
        monthly_savings=c.monthly_savings if ok else 0.0,
        error=None if ok else otherwise,
    )


def _failed(c: Change, exc: ProviderError, note: str = "") -> ChangeResult:
    return _outcome(c, c.instance_id, False, f"{type(exc).__name__}: {exc}{note}")


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
