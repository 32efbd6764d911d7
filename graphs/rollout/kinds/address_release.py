"""Address release: a public address idle for a day or more is given back; undone by allocating the same
address again, which the cloud allows while nobody else took it."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out, current, take_back
from graphs.rollout.models import ChangeResult
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def shows(c: Change) -> Shown:
        a = current(cloud.get_address, c.instance_id)
        if a is None:
            return True, c.instance_id, "released"
        return a.state == "released", a.id, f"it is {a.state}"

    return carry_out(
        workflow_id, wave, changes, lambda c, key: cloud.release_address(c.instance_id, key), shows
    )


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each address allocated again: by its id where the cloud remembers it, else by its IP (the plan's
    `current`), under a new id (EC2)."""

    def undo(r: ChangeResult, key: str) -> object:
        return cloud.recover_address(r.instance_id, key, public_ip=r.before)

    def shows(r: ChangeResult) -> Shown:
        held = [a for a in cloud.list_addresses() if a.public_ip == r.before and a.state != "released"]
        if not held:
            return False, r.instance_id, f"{r.before} is not to be had back"
        return True, held[0].id, f"{r.before} is {held[0].state} again"

    return take_back(workflow_id, done, undo, shows)


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    a = current(context.cloud.get_address, c.instance_id)
    if a is None:
        return "it no longer exists"
    return None if a.state == "idle" else f"it is {a.state} now (attached to {a.attached_to})"


KIND = RolloutKindSpec(
    name="address_release",
    title="address release",
    recommendation="idle_address",
    action="release-address",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"resource": resource},
    summary="release public addresses idle for a day or more; undone by allocating the same address again",
    irreversible=True,
    cooling_off="someone else takes the address",
)
