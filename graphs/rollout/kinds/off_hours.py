"""Off-hours schedules: a non-production machine idle while its team is away gets a schedule in its
`off-hours` tag (stop at 20:00, start at 07:00 in the team's zone, weekends off), which the service then
keeps on the cloud's clock (graphs/off_hours.py). Undone by taking the tag off and starting the machine if
the schedule had stopped it."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.execution import reverse_each, rollback_key
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out
from graphs.rollout.models import ChangeResult
from tools.analysis.off_hours import OFF_HOURS_TAG, OPTED_OUT
from tools.models import Instance
from tools.provider import CloudProvider


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def shows(c: Change) -> Shown:
        tag = cloud.get_instance(c.instance_id).tags.get(OFF_HOURS_TAG)
        return tag == c.target, c.instance_id, f"its {OFF_HOURS_TAG} tag is {tag or 'not there'}"

    def tag(c: Change, key: str) -> object:
        return cloud.set_tags(c.instance_id, {OFF_HOURS_TAG: c.target}, key)

    return carry_out(workflow_id, wave, changes, tag, shows)


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    """Each machine's schedule taken off, and the machine started if the schedule had stopped it."""

    def undo(r: ChangeResult) -> Instance:
        key = rollback_key(workflow_id, r.instance_id)
        inst = cloud.set_tags(r.instance_id, {}, key, remove=[OFF_HOURS_TAG])
        if inst.state in ("stopping", "stopped"):
            cloud.wait_until_stable(r.instance_id)
            cloud.start(r.instance_id, f"{key}/start")
        return cloud.wait_until_stable(r.instance_id)

    return reverse_each(
        done,
        undo,
        lambda r: cloud.wait_until_stable(r.instance_id),
        lambda r, back: OFF_HOURS_TAG not in back.tags and back.state == "running",
    )


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    """Someone may have scheduled it, or opted it out, since the plan was made."""
    tag = context.cloud.get_instance(c.instance_id).tags.get(OFF_HOURS_TAG)
    if tag is None:
        return None
    return (
        "opted out of off-hours schedules"
        if tag.strip() == OPTED_OUT
        else f"it has a schedule already: {tag}"
    )


def application(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    if c.environment == "production":
        return "a production machine: it serves when its team is away, too"
    return None


KIND = RolloutKindSpec(
    name="off_hours",
    title="off-hours schedule",
    recommendation="off_hours",
    action="schedule-off-hours",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"resource": resource, "application": application},
    summary="stop non-production machines at night and at weekends in their team's time zone (a tag the "
    "service keeps); undone by taking the tag off",
    measured_over_days=7.0,
    measured_because="it saves at night and at weekends",
)
