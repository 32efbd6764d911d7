"""Carrying out a wave's changes, and taking them back, through a CloudProvider.

Safe to repeat after a crash: every call carries an idempotency key derived from the workflow, the wave
and the instance, so a re-run replays what already happened (same replacement ids, no second resize)
instead of doing it again. These functions block; the graph runs them in a worker thread.

Outcomes come from the cloud, not from the call: a call that failed may still have been carried out (its
answer lost to a timeout, or the wait after it throttled), so after any failure the instance is read back
(each read retried) and the result records what the cloud shows. When the cloud cannot be read at all,
no verdict is recorded: OutcomeUnknownError stops the step, and a resume repeats it under the same keys.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from agents.review import Change
from graphs.rollout.models import ChangeResult
from tools.errors import ProviderError
from tools.models import REPLACES_TAG, Instance, InstanceFilter, Migration
from tools.provider import CloudProvider

# Reads of the cloud's truth after a failed call, each one retried by the provider's own policy.
READS = 8
_GONE = ("shutting-down", "terminated")


class OutcomeUnknownError(Exception):
    """The cloud could not be read after a change: whether it happened is unknown, so nothing is recorded."""


def observe(read: Callable[[], T], what: str) -> T:
    """`read()`, tried up to READS times: what the cloud says, or OutcomeUnknownError."""
    last: ProviderError | None = None
    for _ in range(READS):
        try:
            return read()
        except ProviderError as exc:
            last = exc
    raise OutcomeUnknownError(f"could not read {what} back from the cloud ({type(last).__name__}: {last})")


def replacement_of(cloud: CloudProvider, instance_id: str) -> Instance | None:
    """The live instance the cloud launched to replace `instance_id`, once it has settled; None if none."""
    found = cloud.list_instances(InstanceFilter(tags={REPLACES_TAG: instance_id}))
    live = [i for i in found if i.state not in _GONE]
    return cloud.wait_until_stable(live[0].id) if live else None


T = TypeVar("T")


def change_key(workflow_id: str, wave: int, instance_id: str) -> str:
    return f"{workflow_id}/w{wave}/{instance_id}"


def rollback_key(workflow_id: str, instance_id: str) -> str:
    return f"{workflow_id}/rollback/{instance_id}"


def wave_slices(
    instance_ids: list[str], waves: tuple[float, ...], service_of: Mapping[str, str | None] | None = None
) -> list[list[str]]:
    """Cumulative shares → the instances each wave adds, in the given order; no empty waves.

    Each wave reaches its share of all the changes, best first, and a service with several changes takes
    them a share at a time and never all at once: until the last wave some of its machines are still
    unchanged, and in the last wave some were changed and checked before. So the canary analysis always
    has peers to compare a changed machine with (`quality.compare`).
    """
    service = {iid: (service_of or {}).get(iid) or f"\0{iid}" for iid in instance_ids}  # none: its own
    members: dict[str, list[str]] = {}
    for iid in instance_ids:
        members.setdefault(service[iid], []).append(iid)
    size = {name: len(ids) for name, ids in members.items()}
    wave_of: dict[str, int] = {}
    # A service's changes are taken in the given order, so what it has taken is a prefix of its list.
    taken: dict[str, int] = dict.fromkeys(size, 0)
    pending = list(instance_ids)

    def take(iid: str, k: int) -> None:
        wave_of[iid] = k
        taken[service[iid]] += 1

    for k, share in enumerate(waves):
        last = k == len(waves) - 1
        for name, ids in members.items():  # every service's own share (several changes only)
            want = len(ids) if last else math.floor(share * len(ids) + 1e-9) if len(ids) > 1 else 0
            for iid in ids[taken[name] : max(taken[name], want)]:
                take(iid, k)
        pending = [i for i in pending if i not in wave_of]
        goal = len(instance_ids) if last else math.ceil(share * len(instance_ids) - 1e-9)
        for iid in list(pending):  # then the wave's share of everything, best first
            if len(wave_of) >= goal:
                break
            if last or size[service[iid]] == 1 or taken[service[iid]] < size[service[iid]] - 1:
                take(iid, k)
        pending = [i for i in pending if i not in wave_of]
    slices = [[iid for iid in instance_ids if wave_of[iid] == k] for k in range(len(waves))]
    return [ids for ids in slices if ids]


def apply_changes(
    cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]
) -> list[ChangeResult]:
    if not changes:
        return []
    if changes[0].action == "migrate-to-spot":
        return _migrate(cloud, workflow_id, wave, changes)
    return [_resize(cloud, change_key(workflow_id, wave, c.instance_id), c) for c in changes]


def revert_changes(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Undo kept changes: a spot replacement migrates back to on-demand, a resize returns to its type. A
    reversal whose call failed is judged by what the cloud shows afterwards."""
    out = []
    for r in done:
        key = rollback_key(workflow_id, r.instance_id)
        back: Instance | None
        try:
            if r.action == "migrate-to-spot":
                m = cloud.migrate(r.current_id, "on-demand", key)
                back = cloud.wait_until_stable(m.replacement.id)
            else:
                back = cloud.resize(r.instance_id, r.before, key)
            error = None
        except ProviderError as exc:
            error = f"{type(exc).__name__}: {exc}"
            back = _reverted(cloud, r)
        if r.action == "migrate-to-spot":
            ok = back is not None and back.state == "running"
        else:
            ok = back is not None and back.state == "running" and back.instance_type == r.before
        if ok and error:
            error = None  # the call's answer was lost, but the cloud shows the reversal done
        elif not ok and error is None:
            error = f"ended {back.state} on {back.instance_type}" if back else "no reversal in the cloud"
        out.append(
            ChangeResult(
                instance_id=r.instance_id,
                current_id=back.id if ok and back else r.current_id,
                action=f"rollback-{r.action}",
                before=r.after,
                after=r.before,
                ok=ok,
                error=error,
            )
        )
    return out


def _reverted(cloud: CloudProvider, r: ChangeResult) -> Instance | None:
    """What the cloud shows of a reversal whose call failed: the on-demand instance that replaced the spot
    one, or the resized instance itself."""

    def read() -> Instance | None:
        if r.action == "migrate-to-spot":
            return replacement_of(cloud, r.current_id)
        return cloud.wait_until_stable(r.instance_id)

    return observe(read, f"the reversal of {r.instance_id}")


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
        replacement: Instance | None = None
        failure: ProviderError | None = None
        try:
            if isinstance(outcome, ProviderError):
                raise outcome
            replacement = cloud.wait_until_stable(outcome.replacement.id)
        except ProviderError as exc:
            failure = exc
            replacement = observe(functools.partial(replacement_of, cloud, c.instance_id), c.instance_id)
        if replacement is None:
            assert failure is not None  # a migration that answered launched a replacement
            out.append(_failed(c, failure))
            continue
        ended = f"replacement {replacement.id} ended {replacement.state}"
        out.append(_outcome(c, replacement.id, replacement.state == "running", ended))
    return out


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
            return _failed(c, exc, note)
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
