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
from tools.models import REPLACES_TAG, Instance, InstanceFilter
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
    cloud: CloudProvider, kind: str, workflow_id: str, wave: int, changes: list[Change]
) -> list[ChangeResult]:
    """Carry out a wave's changes the way their rollout kind does."""
    from graphs.rollout.kinds import kind_of  # the kinds build on this module's helpers

    return kind_of(kind).apply(cloud, workflow_id, wave, changes) if changes else []


def revert_changes(
    cloud: CloudProvider, kind: str, workflow_id: str, done: list[ChangeResult]
) -> list[ChangeResult]:
    """Undo kept changes the way their rollout kind does; a reversal whose call failed is judged by what
    the cloud shows afterwards."""
    from graphs.rollout.kinds import kind_of

    return kind_of(kind).revert(cloud, workflow_id, done) if done else []


def outcome(c: Change, current_id: str, ok: bool, otherwise: str) -> ChangeResult:
    """The change's result: kept (its savings count) or not, with `otherwise` saying why not."""
    return ChangeResult(
        instance_id=c.instance_id,
        current_id=current_id,
        action=c.action,
        before=c.current,
        after=c.target,
        ok=ok,
        monthly_savings=c.monthly_savings if ok else 0.0,
        uptime=c.uptime,
        error=None if ok else otherwise,
    )


def failed(c: Change, exc: ProviderError, note: str = "") -> ChangeResult:
    return outcome(c, c.instance_id, False, f"{type(exc).__name__}: {exc}{note}")


def reverse_each(
    done: list[ChangeResult],
    undo: Callable[[ChangeResult], Instance],
    read_back: Callable[[ChangeResult], Instance | None],
    restored: Callable[[ChangeResult, Instance], bool],
) -> list[ChangeResult]:
    """Undo each kept change (`undo` returns the machine now serving, settled); when its call fails, the
    cloud is read back (`read_back`, retried) and `restored` judges what it shows."""
    out = []
    for r in done:
        back: Instance | None
        try:
            back, error = undo(r), None
        except ProviderError as exc:
            error = f"{type(exc).__name__}: {exc}"
            back = observe(functools.partial(read_back, r), f"the reversal of {r.instance_id}")
        out.append(reversal(r, back, back is not None and restored(r, back), error))
    return out


def reversal(r: ChangeResult, back: Instance | None, ok: bool, error: str | None) -> ChangeResult:
    """A reversal's result, judged by what the cloud shows (`ok`), with the call's error if it failed."""
    if ok and error:
        error = None  # the call's answer was lost, but the cloud shows the reversal done
    elif not ok and error is None:
        error = f"ended {back.state} on {back.instance_type}" if back else "no reversal in the cloud"
    return ChangeResult(
        instance_id=r.instance_id,
        current_id=back.id if ok and back else r.current_id,
        action=f"rollback-{r.action}",
        before=r.after,
        after=r.before,
        ok=ok,
        error=error,
    )
