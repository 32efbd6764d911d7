"""The rollout kinds of volumes, snapshots and addresses, end to end on an in-process simulator, each outcome
checked in the simulator's own REST API: plan → review → (a person, for every deletion) → waves → the cloud
shows the change, its savings on the bill; and taken back (a degradation, or a person cancelling) within the
cooling-off, the cloud shows what was."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graphs.rollout.authority import Caller
from graphs.rollout.events import ProgressEvent, WaveStarted
from graphs.rollout.models import Decision, RolloutReport, RolloutSettings, Scope
from graphs.rollout.workflow import RolloutRun, Rollouts, open_rollouts
from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import cloud_of

OPS, ALICE = Caller("ops", "operator"), Caller("alice", "approver")
AUTO = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9, max_changes=12)


@pytest.fixture
def sim() -> CloudSimulator:
    return CloudSimulator(7, 400)


@pytest.fixture
def rest(sim: CloudSimulator) -> TestClient:
    return TestClient(create_app(sim))


async def rolled_out(
    rollouts: Rollouts, kind: str, scope: Scope | None = None, on_progress: Any = None
) -> RolloutRun:
    run = await rollouts.start(kind, scope or Scope(), AUTO, caller=OPS, on_progress=on_progress)
    if run.pending is not None:
        run = await rollouts.decide(
            run.workflow_id, Decision(decision="approve", by="alice"), ALICE, on_progress=on_progress
        )
    return run


def completed(run: RolloutRun) -> RolloutReport:
    report = run.report
    assert report is not None and report.status == "completed", report
    assert report.changed and sorted(report.changed) == sorted(report.approved)
    return report


async def test_volumes_move_to_gp3_online_and_the_bill_follows(sim: CloudSimulator, rest: TestClient) -> None:
    before = {v["id"]: v for v in rest.get("/volumes", params={"provider": "aws"}).json()["volumes"]}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        # Staging's: production's include a gateway that saturates every morning, which the canary (rightly)
        # cannot tell from a regression — its volume is vetoed or rolled back, as the next test shows.
        run = await rolled_out(rollouts, "volume_retype", Scope(tags={"environment": "staging"}))
    report = completed(run)
    assert run.pending is None  # reversible and low-risk: the policy approved it alone
    for vid in report.changed:
        now = rest.get(f"/volumes/{vid}").json()
        assert before[vid]["volume_type"] in ("gp2", "io1") and now["volume_type"] == "gp3"
        assert now["iops"] >= before[vid]["iops_p99"] * 1.2  # the workload's p99 and headroom, kept
        assert now["monthly_price"] < before[vid]["monthly_price"]
    listed = sum(
        before[v]["monthly_price"] - rest.get(f"/volumes/{v}").json()["monthly_price"] for v in report.changed
    )
    assert report.monthly_savings == pytest.approx(listed, abs=0.05 * len(report.changed))
    assert report.measured_monthly_savings == pytest.approx(report.monthly_savings, rel=0.01)


async def test_a_degraded_service_puts_its_volumes_back_after_the_six_hours_ebs_asks(
    sim: CloudSimulator, rest: TestClient
) -> None:
    before = {v["id"]: v for v in rest.get("/volumes", params={"provider": "aws"}).json()["volumes"]}
    started = sim.now()

    def degrade(event: ProgressEvent) -> None:
        if isinstance(event, WaveStarted) and event.number == 1:
            sim.set_faults({}, degradation=(1.6, 0.0))  # every machine changed from now on answers slower

    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rolled_out(rollouts, "volume_retype", on_progress=degrade)
    report = run.report
    assert report is not None and report.status == "rolled_back" and report.rolled_back, report
    for vid in report.rolled_back:
        now = rest.get(f"/volumes/{vid}").json()
        assert (now["volume_type"], now["provisioned_iops"]) == (
            before[vid]["volume_type"],
            before[vid]["provisioned_iops"],
        )
    assert sim.now() - started >= 6 * 3600  # EBS refuses a second modification within six hours


async def test_unattached_volumes_are_deleted_only_by_a_person_after_a_final_snapshot(
    sim: CloudSimulator, rest: TestClient
) -> None:
    available = {v["id"]: v for v in rest.get("/volumes", params={"state": "available"}).json()["volumes"]}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rollouts.start("volume_cleanup", Scope(), AUTO, caller=OPS)
        assert run.pending is not None  # auto-approve or not: deleting is a person's call
        assert any("a person approves every one" in why for why in run.pending.why)
        run = await rollouts.decide(run.workflow_id, Decision(decision="approve", by="alice"), ALICE)
    report = completed(run)
    for vid in report.changed:
        assert rest.get(f"/volumes/{vid}").status_code == 404
        final = rest.get(f"/snapshots/{report.replacements[vid]}").json()
        assert (
            final["tags"]["final-snapshot-of"] == vid and final["volume_size_gb"] == available[vid]["size_gb"]
        )
    # Savings net of the final snapshots: estimated against a whole-size snapshot, billed at what it stores.
    assert report.measured_monthly_savings is not None
    assert report.measured_monthly_savings >= report.monthly_savings > 0


async def cancelled_after_wave_one(sim: CloudSimulator, kind: str) -> RolloutReport:
    """A person approves, then cancels with a rollback once the first wave has started."""
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        workflow_id = await rollouts.register(kind, Scope(), AUTO, caller=OPS)
        cancelling: list[asyncio.Future[Any]] = []

        def cancel(event: ProgressEvent) -> None:
            if isinstance(event, WaveStarted) and event.number == 1:
                cancelling.append(asyncio.ensure_future(rollouts.cancel(workflow_id, ALICE, True)))

        run = await rollouts.resume(workflow_id, cancel)
        assert run.pending is not None
        approve = Decision(decision="approve", by="alice")
        run = await rollouts.decide(workflow_id, approve, ALICE, on_progress=cancel)
        await asyncio.gather(*cancelling)
    report = run.report
    assert report is not None and report.status == "cancelled" and report.rolled_back, report
    assert report.changed == []
    return report


async def test_a_cancelled_cleanup_makes_the_volumes_again_from_their_final_snapshots(
    sim: CloudSimulator, rest: TestClient
) -> None:
    available = {v["id"]: v for v in rest.get("/volumes", params={"state": "available"}).json()["volumes"]}
    report = await cancelled_after_wave_one(sim, "volume_cleanup")
    for vid in report.rolled_back:
        again = rest.get("/volumes", params={"tag": f"restores={vid}"}).json()["volumes"]
        assert len(again) == 1 and again[0]["state"] == "available"
        assert (again[0]["volume_type"], again[0]["size_gb"]) == (
            available[vid]["volume_type"],
            available[vid]["size_gb"],
        )


async def test_old_snapshots_go_to_the_recycle_bin_billed_until_it_empties(
    sim: CloudSimulator, rest: TestClient
) -> None:
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        report = completed(await rolled_out(rollouts, "snapshot_cleanup"))
    for sid in report.changed:
        shown = rest.get(f"/snapshots/{sid}").json()
        assert shown["state"] == "recycle-bin" and shown["recoverable_until"]
    assert report.measured_monthly_savings == pytest.approx(0.0, abs=0.01)  # the bin is billed too
    sim.advance(8 * 86400)
    assert all(rest.get(f"/snapshots/{sid}").status_code == 404 for sid in report.changed)
    day = rest.get("/costs", params={"group_by": "instance", "days": 1}).json()["groups"]
    assert not {g["key"] for g in day if g["amount"] > 0} & set(report.changed)


async def test_a_cancelled_snapshot_cleanup_recovers_them_from_the_bin(
    sim: CloudSimulator, rest: TestClient
) -> None:
    report = await cancelled_after_wave_one(sim, "snapshot_cleanup")
    assert all(rest.get(f"/snapshots/{sid}").json()["state"] == "completed" for sid in report.rolled_back)


async def test_the_last_copy_of_production_data_is_vetoed(sim: CloudSimulator) -> None:
    sim.advance(100 * 86400)  # the decommissioned machines' last backups are past the retention too
    production = Scope(tags={"environment": "production"})
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        every = AUTO.model_copy(update={"max_changes": 1000})  # the riskiest come last by priority
        run = await rollouts.start("snapshot_cleanup", production, every, caller=OPS)
    approvals = run.pending.approvals if run.pending is not None else []
    vetoes = {sid: why for a in approvals for sid, why in a.vetoes.items()}
    assert vetoes and all("last copy" in why for why in vetoes.values())


async def test_idle_addresses_are_released_and_can_be_had_back(sim: CloudSimulator, rest: TestClient) -> None:
    idle = {a["id"]: a for a in rest.get("/addresses", params={"state": "idle"}).json()["addresses"]}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rolled_out(rollouts, "address_release")
    report = completed(run)
    assert set(report.changed) <= set(idle)
    assert all(rest.get(f"/addresses/{a}").json()["state"] == "released" for a in report.changed)
    assert report.measured_monthly_savings == pytest.approx(report.monthly_savings, rel=0.01)
    assert report.monthly_savings == pytest.approx(
        sum(idle[a]["monthly_price"] for a in report.changed), abs=0.05
    )


async def test_a_cancelled_release_has_the_same_addresses_back(sim: CloudSimulator, rest: TestClient) -> None:
    idle = {a["id"]: a for a in rest.get("/addresses", params={"state": "idle"}).json()["addresses"]}
    report = await cancelled_after_wave_one(sim, "address_release")
    for aid in report.rolled_back:
        back = rest.get(f"/addresses/{aid}").json()
        assert back["state"] == "idle" and back["public_ip"] == idle[aid]["public_ip"]


async def test_buckets_move_to_their_cheapest_class_and_the_bill_shows_it_a_day_on(
    sim: CloudSimulator, rest: TestClient
) -> None:
    before = {b["name"]: b for b in rest.get("/buckets").json()["buckets"]}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rolled_out(rollouts, "bucket_tier_move", Scope(provider="aws"))
        report = completed(run)
        assert report.measured_monthly_savings is None and "one-off charges" in report.savings_measurement
        for name in report.changed:
            now = rest.get(f"/buckets/{name}").json()
            assert (
                now["storage_class"] != before[name]["storage_class"]
                and now["size_gb"] == before[name]["size_gb"]
            )
        sim.advance(25 * 3600)
        measured = await rollouts.savings(run.workflow_id)
    # Storage and reads are steady, so a day of the bill scaled to a month is the plan's estimate.
    assert measured.monthly_savings == pytest.approx(report.monthly_savings, rel=0.01)


async def test_a_cancelled_tier_move_puts_the_buckets_back(sim: CloudSimulator, rest: TestClient) -> None:
    before = {b["name"]: b["storage_class"] for b in rest.get("/buckets").json()["buckets"]}
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        workflow_id = await rollouts.register("bucket_tier_move", Scope(), AUTO, caller=OPS)
        cancelling: list[asyncio.Future[Any]] = []

        def cancel(event: ProgressEvent) -> None:
            if isinstance(event, WaveStarted) and event.number == 1:
                cancelling.append(asyncio.ensure_future(rollouts.cancel(workflow_id, ALICE, True)))

        run = await rollouts.resume(workflow_id, cancel)
        await asyncio.gather(*cancelling)
    report = run.report
    assert report is not None and report.status == "cancelled" and report.rolled_back and report.changed == []
    for name in report.rolled_back:
        assert rest.get(f"/buckets/{name}").json()["storage_class"] == before[name]
    services = {
        g["key"] for g in rest.get("/costs", params={"group_by": "service", "days": 1}).json()["groups"]
    }
    assert {"object-storage", "data-retrieval"} <= services  # and the moves' one-off charges billed
