"""Every rollout kind of machines, end to end on an in-process simulator: plan → review → approve → waves →
the cloud shows the change; and rolled back (by a degradation, or by a person cancelling), the cloud shows
everything as it was. (The kinds of volumes, snapshots and addresses: test_storage_kinds.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphs.rollout.authority import Caller
from graphs.rollout.events import ProgressEvent, WaveStarted
from graphs.rollout.kinds import KINDS, kind_of
from graphs.rollout.models import Decision, RolloutReport, RolloutSettings, Scope
from graphs.rollout.workflow import InvalidKindError, RolloutRun, Rollouts, open_rollouts
from mock_cloud import CloudSimulator
from mock_cloud.views import InstanceView
from tests.conftest import cloud_of
from tools.analysis.kinds import MACHINE_KINDS as MACHINES
from tools.analysis.off_hours import OFF_HOURS_TAG

OPS, ALICE = Caller("ops", "operator"), Caller("alice", "approver")
AUTO = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9, max_changes=30)
MACHINE_KINDS = sorted(k for k, spec in KINDS.items() if spec.recommendation in MACHINES)


def shows_changed(kind: str, before: InstanceView, sim: CloudSimulator, report: RolloutReport) -> bool:
    now = sim.get_instance(report.replacements.get(before.id, before.id))
    return {
        "spot_migration": now.pricing_model == "spot" and now.state == "running",
        "rightsizing": now.instance_type != before.instance_type and now.state == "running",
        "upsize": now.vcpus >= before.vcpus and now.instance_type != before.instance_type,
        "idle_stop": now.state == "stopped",
        # A schedule is a tag at first: the service stops the machine at its team's 20:00 (test_off_hours.py).
        "off_hours": now.tags.get(OFF_HOURS_TAG, "").startswith("stop=20:00") and now.state == "running",
    }[kind]


async def carried_out(rollouts: Rollouts, kind: str, on_progress: Any = None) -> RolloutRun:
    run = await rollouts.start(kind, Scope(), AUTO, caller=OPS, on_progress=on_progress)
    if run.pending is not None:  # an upsize spends money: a person approves it, whatever the policy
        assert not kind_of(kind).spends or any("spending needs a person" in w for w in run.pending.why)
        run = await rollouts.decide(run.workflow_id, Decision(decision="approve", by="alice"), ALICE)
    return run


@pytest.mark.parametrize("kind", MACHINE_KINDS)
async def test_each_kind_is_carried_out_and_the_cloud_shows_it(kind: str) -> None:
    sim = CloudSimulator(7, 400)
    before = {i.id: i for i in sim.list_instances()}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await carried_out(rollouts, kind)
        audit = await rollouts.audit(run.workflow_id)
    report = run.report
    assert report is not None and report.status == "completed", report
    assert report.changed and sorted(report.changed) == sorted(report.approved)
    assert all(shows_changed(kind, before[iid], sim, report) for iid in report.changed)
    spends = kind_of(kind).spends
    if kind_of(kind).measured_over_days:  # the bill shows it over the days after (test_off_hours.py)
        assert report.measured_monthly_savings is None and "not measured yet" in report.savings_measurement
    else:
        assert (report.monthly_savings < 0) == spends and (report.measured_monthly_savings or 0) * (
            1 if not spends else -1
        ) > 0
    changes = [e for e in audit if e.kind == "change"]
    assert {e.detail["action"] for e in changes} == {kind_of(kind).action}


@pytest.mark.parametrize("kind", MACHINE_KINDS)
async def test_each_kind_rolls_back_to_what_was(kind: str) -> None:
    sim = CloudSimulator(7, 400)
    before = {i.id: i for i in sim.list_instances()}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        cancelling: list[asyncio.Future[Any]] = []
        workflow_id = await rollouts.register(kind, Scope(), AUTO, caller=OPS)

        def undo_after_wave_one(event: ProgressEvent) -> None:
            if isinstance(event, WaveStarted) and event.number == 1:
                # Nobody uses these machines (or, for a schedule, not yet): a person undoes it instead.
                if kind in ("idle_stop", "off_hours"):
                    cancelling.append(asyncio.ensure_future(rollouts.cancel(workflow_id, ALICE, True)))
                else:  # everything changed from here on answers 50 % slower
                    sim.set_faults({}, degradation=(1.5, 0.0))

        run = await rollouts.resume(workflow_id, undo_after_wave_one)
        if run.pending is not None:
            approve = Decision(decision="approve", by="alice")
            run = await rollouts.decide(workflow_id, approve, ALICE, on_progress=undo_after_wave_one)
        await asyncio.gather(*cancelling)
    report = run.report
    assert report is not None and report.status in ("rolled_back", "cancelled") and report.changed == []
    assert report.rolled_back and report.success_rate == 0.0
    for iid in report.rolled_back:
        now = serving(sim, iid)
        assert now.state == "running" and OFF_HOURS_TAG not in now.tags, iid
        assert (now.instance_type, now.pricing_model) == (
            before[iid].instance_type,
            before[iid].pricing_model,
        )


def serving(sim: CloudSimulator, instance_id: str) -> InstanceView:
    """The machine that serves in `instance_id`'s place now (following replacements, there and back)."""
    inst = sim.get_instance(instance_id)
    while inst.replaced_by:
        inst = sim.get_instance(inst.replaced_by)
    return inst


async def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    async with open_rollouts("memory", cloud_of(CloudSimulator(7, 50))) as rollouts:
        with pytest.raises(
            InvalidKindError,
            match="expected one of spot-migration, rightsizing, upsize, idle-stop, off-hours, volume-retype, "
            "volume-cleanup, snapshot-cleanup, address-release",
        ):
            await rollouts.start("defragment", caller=OPS)
