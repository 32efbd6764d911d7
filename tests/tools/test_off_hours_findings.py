"""Off-hours findings against the simulator's own figures: every machine advised is a non-production one its
REST API shows idle in the hours the advised schedule would stop it (each hour's wall clock worked out here
with zoneinfo, one timestamp at a time), and each saving is its hourly price for the hours it ran then."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.ledger import read_ledger
from tools.analysis.off_hours import OffHoursSchedule, ScheduleError
from tools.analysis.settings import HOURS_PER_MONTH

LOOKBACK_HOURS = 14 * 24


def stopped_by(schedule: OffHoursSchedule, moment: datetime) -> bool:
    """The schedule's off hours, read off a wall clock: 20:00 to 07:00 and the weekend."""
    local = moment.astimezone(ZoneInfo(schedule.time_zone))
    return local.weekday() >= 5 or not time(7) <= local.time() < time(20)


@pytest.fixture(scope="module")
def sim() -> CloudSimulator:
    return CloudSimulator(7, 400)


def test_each_advised_machine_is_idle_off_hours_on_the_rest_api(sim: CloudSimulator) -> None:
    rest = TestClient(create_app(sim))
    ledger = read_ledger(SimulatorProvider(sim), kinds=["off_hours"])
    found = ledger.opportunities
    assert len(found) >= 15
    listed = rest.get("/instances", params={"state": "running", "limit": 10_000}).json()["instances"]
    machines = {i["id"]: i for i in listed}
    for r in found:
        inst = machines[r.instance_id]
        assert inst["tags"]["environment"] != "production" and inst["pricing_model"] != "spot"
        schedule = OffHoursSchedule.parse(r.target)
        assert schedule.time_zone == inst["tags"]["timezone"]  # the team's own zone
        series = rest.get(f"/instances/{r.instance_id}/metrics", params={"hours": LOOKBACK_HOURS}).json()
        off = [
            cpu
            for at, cpu in zip(series["timestamps"], series["cpu_pct"], strict=True)
            if stopped_by(schedule, datetime.fromisoformat(at))
        ]
        assert float(np.percentile(off, 95)) < 5.0, r.instance_id
        expected = inst["hourly_price"] * len(off) / LOOKBACK_HOURS * HOURS_PER_MONTH
        assert r.monthly_savings == pytest.approx(expected, abs=0.01), r.instance_id


def test_production_busy_nights_and_spot_machines_are_never_advised(sim: CloudSimulator) -> None:
    provider = SimulatorProvider(sim)
    advised = {r.instance_id for r in read_ledger(provider, kinds=["off_hours"]).opportunities}
    running = provider.list_instances()
    by_id = {i.id: i for i in running}
    assert all(by_id[i].tags["environment"] != "production" for i in advised)
    # Nightly batch jobs run while the team sleeps: their nights are busy, so no schedule for them.
    batch = [i for i in running if i.tags.get("tier") == "batch" and i.tags["environment"] == "development"]
    assert batch and not advised & {i.id for i in batch}


def test_one_opportunity_per_machine_and_a_scheduled_machine_is_not_reserved(sim: CloudSimulator) -> None:
    ledger = read_ledger(SimulatorProvider(sim))
    ids = [r.instance_id for r in ledger.opportunities]
    assert len(ids) == len(set(ids))
    scheduled = {r.instance_id for r in ledger.opportunities if r.kind == "off_hours"}
    assert scheduled and not any(
        a.kind == "reserved"
        for r in ledger.opportunities
        if r.instance_id in scheduled
        for a in r.alternatives
    )
    assert ledger.summary.by_kind["off_hours"] > 0


def test_an_opted_out_or_scheduled_machine_is_left_alone(sim: CloudSimulator) -> None:
    provider = SimulatorProvider(CloudSimulator(7, 400))
    first, second, *_ = read_ledger(provider, kinds=["off_hours"]).opportunities
    provider.set_tags(first.instance_id, {"off-hours": "never"}, "opt-out")
    provider.set_tags(second.instance_id, {"off-hours": "stop=22:00;start=06:00;tz=UTC"}, "own")
    again = {r.instance_id for r in read_ledger(provider, kinds=["off_hours"]).opportunities}
    assert first.instance_id not in again and second.instance_id not in again


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("stop=25:00", "not a time of day"),
        ("stop=07:00;start=20:00", "must come before stop"),
        ("tz=Mars/Olympus", "not a time zone"),
        ("weekends=sometimes", "weekends must be off or on"),
        ("at=20:00", "is not stop=HH:MM"),
    ],
)
def test_a_schedule_that_cannot_be_read_says_why(text: str, error: str) -> None:
    with pytest.raises(ScheduleError, match=error):
        OffHoursSchedule.parse(text)


def test_boundaries_follow_the_teams_wall_clock_across_summer_time() -> None:
    berlin = OffHoursSchedule.parse("stop=20:00;start=07:00;weekends=off;tz=Europe/Berlin")
    assert OffHoursSchedule.parse(berlin.tag_value) == berlin
    # Summer time ends in Berlin on Sunday 2026-10-25: Friday's stop is 18:00 UTC, Monday's start 06:00.
    crossed = berlin.boundaries(
        datetime(2026, 10, 23, 12, tzinfo=UTC), datetime(2026, 10, 26, 12, tzinfo=UTC)
    )
    assert crossed == [
        (datetime(2026, 10, 23, 18, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 6, tzinfo=UTC), True),
    ]
    times = np.array([datetime(2026, 10, 23, h, tzinfo=UTC).timestamp() for h in range(24)])
    mask = berlin.running_mask(times)
    assert mask.tolist() == [berlin.running_at(datetime.fromtimestamp(t, UTC)) for t in times]
    assert berlin.off_hours_per_week == 103.0
