"""Carrying out changes to volumes, snapshots, addresses, buckets and machines' tags, and taking them back:
each call under its idempotency key, each outcome read back from the cloud (retried), whatever the call
answered."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from agents.review import Change
from graphs.rollout.execution import change_key, observe, outcome, rollback_key
from graphs.rollout.models import ChangeResult
from tools.errors import ProviderError, ResourceNotFoundError

# What the cloud shows of a change: (done, the id that carries the resource now, what it shows in words).
Shown = tuple[bool, str, str]
T = TypeVar("T")


def current(read: Callable[[str], T], resource_id: str) -> T | None:
    """The resource as the cloud shows it now, or None when it is gone (deleted, released)."""
    try:
        return read(resource_id)
    except ResourceNotFoundError:
        return None


def carry_out(
    workflow_id: str,
    wave: int,
    changes: list[Change],
    act: Callable[[Change, str], object],
    shows: Callable[[Change], Shown],
) -> list[ChangeResult]:
    out = []
    for c in changes:
        error = ""
        try:
            act(c, change_key(workflow_id, wave, c.instance_id))
        except ProviderError as exc:  # carried out or not: the cloud says
            error = f"{type(exc).__name__}: {exc}"
        done, current, seen = observe(functools.partial(shows, c), c.instance_id)
        out.append(outcome(c, current, done, f"{error}; {seen}" if error else seen))
    return out


def take_back(
    workflow_id: str,
    done: list[ChangeResult],
    undo: Callable[[ChangeResult, str], object],
    shows: Callable[[ChangeResult], Shown],
) -> list[ChangeResult]:
    out = []
    for r in done:
        error = None
        try:
            undo(r, rollback_key(workflow_id, r.instance_id))
        except ProviderError as exc:
            error = f"{type(exc).__name__}: {exc}"
        restored, current, seen = observe(functools.partial(shows, r), f"the reversal of {r.instance_id}")
        out.append(
            ChangeResult(
                instance_id=r.instance_id,
                current_id=current if restored else r.current_id,
                action=f"rollback-{r.action}",
                before=r.after,
                after=r.before,
                ok=restored,
                error=None if restored else (f"{error}; {seen}" if error else seen),
            )
        )
    return out
