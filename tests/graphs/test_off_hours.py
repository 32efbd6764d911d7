"""Off-hours schedules end to end on an in-process simulator, each outcome read in its REST API: the rollout
tags the advised machines; the FinOps duty, ticking hourly through a simulated week, stops them at 20:00 and
starts them at 07:00 in their team's zone and keeps them off at the weekend; the week's bill shows the saving
the plan estimated; a person working late keeps the machine they started; a second replica changes nothing
twice; taking a schedule back starts the machine it stopped."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from graphs.finops import FinOps
from graphs.rollout.authority import Caller
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import ChangeResult, Decision, RolloutSettings, Scope
from graphs.rollout.workflow import RolloutRun, Rollouts, open_rollouts
from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import cloud_of
from tools.analysis.off_hours import OFF_HOURS_TAG

OPS, ALICE = Caller("ops", "operator"), Caller("alice", "approver")
SETTINGS = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9, max_changes=8)
DEVELOPMENT = Scope(tags={"environment": "development"})
HOUR = 3600.0


async def scheduled(rollouts: Rollouts) -> RolloutRun:
    run = await rollouts.start("off_hours", DEVELOPMENT, SETTINGS, caller=OPS)
    if run.pending is not None:
        run = await rollouts.decide(run.workflow_id, Decision(decision="approve", by="alice"), ALICE)
    assert run.report is not None and run.report.status == "completed", run.report
    return run


def local_hour(rest: TestClient, instance_id: str) -> tuple[int, int]:
    """(weekday, hour) on the machine's team's wall clock, as the REST API tells its zone and time."""
    zone = rest.get(f"/instances/{instance_id}").json()["tags"]["timezone"]
    now = datetime.fromisoformat(rest.get("/clock").json()["now"])
    local = now.astimezone(ZoneInfo(zone))
    return local.weekday(), local.hour


async def test_a_week_of_schedules_saves_what_the_plan_said_on_the_bill() -> None:
    sim = CloudSimulator(7, 400)
    rest = TestClient(create_app(sim))
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await scheduled(rollouts)
        report = run.report
        assert report is not None and len(report.changed) == 8
        assert report.measured_monthly_savings is None and "not measured yet" in report.savings_measurement
        for iid in report.changed:
            assert rest.get(f"/instances/{iid}").json()["tags"][OFF_HOURS_TAG].startswith("stop=20:00;")
        finops = FinOps(rollouts)
        await finops.keep_schedules()  # the first run starts keeping them from now
        seen: dict[str, list[tuple[int, int, str]]] = {iid: [] for iid in report.changed}
        for _ in range(7 * 24 + 2):
            sim.advance(HOUR)
            await finops.keep_schedules()
            for iid in report.changed:
                weekday, hour = local_hour(rest, iid)
                seen[iid].append((weekday, hour, rest.get(f"/instances/{iid}").json()["state"]))
        measured = await rollouts.savings(run.workflow_id)
    for iid, states in seen.items():
        # A schedule begins at its first boundary (a machine tagged at 23:00 runs until 07:00), and the tick
        # is hourly, so each boundary is kept within the hour after it.
        first = next(k for k, (d, h, s) in enumerate(states) if d < 5 and h == 8)
        kept = states[first:]
        assert all(s == "stopped" for d, h, s in kept if d >= 5 or h in range(21, 24) or h in range(0, 7)), (
            iid
        )
        assert all(s == "running" for d, h, s in kept if d < 5 and h in range(8, 20)), iid
    assert measured.monthly_savings is not None and measured.hours == 7 * 24
    # The bill of the week after against the week before, scaled to a month: the estimate within 15 %
    # (its two weeks of history and the hour a tick may take to keep a boundary make the difference).
    assert measured.monthly_savings == pytest.approx(report.monthly_savings, rel=0.15)
    # Its week after is the simulator's own bill of those machines for the 7 days from an hour after the last
    # wave.
    until = report.waves[-1].finished_at + timedelta(days=7, hours=1)
    billed = rest.get("/costs", params={"group_by": "instance", "days": 7, "until": until.isoformat()}).json()
    week = {g["key"]: g["amount"] for g in billed["groups"]}
    assert sum(week[i] for i in report.changed) == pytest.approx(measured.after_usd, rel=1e-4)


async def test_a_machine_started_late_at_night_stays_up_until_the_next_stop() -> None:
    sim = CloudSimulator(7, 400)
    cloud = cloud_of(sim)
    async with open_rollouts("memory", cloud) as rollouts:
        run = await scheduled(rollouts)
        assert run.report is not None
        iid = run.report.changed[0]
        replica_a, replica_b = FinOps(rollouts), FinOps(rollouts)
        await replica_a.keep_schedules()
        while cloud.get_instance(iid).state == "running":  # until its evening stop
            sim.advance(HOUR)
            await (replica_a if int(sim.now() // HOUR) % 2 else replica_b).keep_schedules()
        cloud.wait_until_stable(iid)
        cloud.start(iid, "working-late")
        sim.advance(HOUR)
        again = await replica_b.keep_schedules()  # the other replica, with no boundary since
        assert again is not None and not [c for c in again.changes if c.instance_id == iid]
        assert cloud.get_instance(iid).state == "running"
        stops = 0
        for _ in range(30):  # the next morning's start leaves it running; the evening's stop stops it
            sim.advance(HOUR)
            done = await replica_a.keep_schedules()
            stops += sum(c.instance_id == iid and c.action == "stop" for c in done.changes) if done else 0
        assert stops == 1 and cloud.get_instance(iid).state == "stopped"


async def test_taking_a_schedule_back_starts_what_it_stopped_and_a_bad_tag_is_reported() -> None:
    sim = CloudSimulator(7, 400)
    cloud = cloud_of(sim)
    rest = TestClient(create_app(sim))
    async with open_rollouts("memory", cloud) as rollouts:
        run = await scheduled(rollouts)
        assert run.report is not None
        first, second, *_ = run.report.changed
        finops = FinOps(rollouts)
        await finops.keep_schedules()
        while cloud.get_instance(first).state == "running":
            sim.advance(HOUR)
            await finops.keep_schedules()
        cloud.set_tags(second, {OFF_HOURS_TAG: "stop=late"}, "a-typo")
        sim.advance(HOUR)
        kept = await finops.keep_schedules()
        assert kept is not None and any(
            second in p and "'late' is not a time of day" in p for p in kept.problems
        )
        done = ChangeResult(instance_id=first, current_id=first, action="schedule-off-hours",
                            before="running at all hours", after="stop=20:00", ok=True)  # fmt: skip
        taken_back = kind_of("off_hours").revert(cloud, run.workflow_id, [done])
    assert [r.ok for r in taken_back] == [True]
    shown = rest.get(f"/instances/{first}").json()
    assert shown["state"] == "running" and OFF_HOURS_TAG not in shown["tags"]
