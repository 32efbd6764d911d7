"""Volume retype: an EBS gp2 or io1 volume becomes gp3, provisioned for its workload's p99 IOPS and
throughput; online, with the machine using it watched after each wave. Undone by changing it back — which
EBS allows six hours after a modification, so a rollback waits for that moment."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec
from graphs.rollout.kinds.resources import Shown, carry_out, take_back
from graphs.rollout.models import ChangeResult
from mock_cloud.catalog.storage import volume_type
from tools.analysis.storage import parse_volume_type
from tools.models import Volume
from tools.provider import CloudProvider


def _is(v: Volume, wanted: str) -> bool:
    name, iops, mbps = parse_volume_type(wanted)
    return (v.volume_type, v.provisioned_iops, v.provisioned_throughput_mbps) == (
        name,
        iops or 0.0,
        mbps or 0.0,
    )


def apply(cloud: CloudProvider, workflow_id: str, wave: int, changes: list[Change]) -> list[ChangeResult]:
    def act(c: Change, key: str) -> object:
        name, iops, mbps = parse_volume_type(c.target)
        return cloud.modify_volume(c.instance_id, name, key, iops, mbps)

    def shows(c: Change) -> Shown:
        v = cloud.get_volume(c.instance_id)
        return _is(v, c.target), v.id, f"it is {v.volume_type}"

    return carry_out(workflow_id, wave, changes, act, shows)


def revert(cloud: CloudProvider, workflow_id: str, done: list[ChangeResult]) -> list[ChangeResult]:
    def undo(r: ChangeResult, key: str) -> object:
        v = cloud.get_volume(r.instance_id)
        if v.modifiable_at is not None:
            cloud.sleep_until(v.modifiable_at)  # EBS: six hours after the last modification
        name, iops, mbps = parse_volume_type(r.before)
        return cloud.modify_volume(r.instance_id, name, key, iops, mbps)

    def shows(r: ChangeResult) -> Shown:
        v = cloud.get_volume(r.instance_id)
        return _is(v, r.before), v.id, f"it is {v.volume_type}"

    return take_back(workflow_id, done, undo, shows)


def performance(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    """The workload may have grown since the plan: the new type must still carry its p99."""
    v = context.cloud.get_volume(c.instance_id)
    name, iops, mbps = parse_volume_type(c.target)
    delivered_iops, delivered_mbps = volume_type(v.provider, name).performance(
        v.size_gb, iops or 0.0, mbps or 0.0
    )
    if v.iops_p99 is not None and v.iops_p99 > delivered_iops:
        return f"its p99 is {v.iops_p99:,.0f} IOPS now, more than {name}'s {delivered_iops:,.0f} as planned"
    if v.throughput_p99_mbps is not None and v.throughput_p99_mbps > delivered_mbps:
        return f"its p99 throughput is {v.throughput_p99_mbps:,.0f} MB/s now, more than planned"
    return None


def resource(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    v = context.cloud.get_volume(c.instance_id)
    if not _is(v, c.current):
        return f"it is {v.volume_type} now, not {c.current} as planned"
    return None


KIND = RolloutKindSpec(
    name="volume_retype",
    title="volume retype",
    recommendation="volume_type",
    action="modify-volume-type",
    chooses=lambda r: r.monthly_savings > 0,
    apply=apply,
    revert=revert,
    checks={"performance": performance, "resource": resource},
    summary="move EBS gp2/io1 volumes to gp3 provisioned for their workload, online; undone by changing back",
)
