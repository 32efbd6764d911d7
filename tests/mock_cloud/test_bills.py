"""Bills that look like bills: weekends, growth, a clock part-way through a month, and cost spikes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.errors import InvalidParameterValue
from mock_cloud.faults import cost_spike
from mock_cloud.schedules import SCHEDULE_TAG, running_at
from mock_cloud.server import create_app

DAY = 86400.0


@pytest.fixture(scope="module")
def fleet() -> CloudSimulator:
    """The default fleet, read only."""
    return CloudSimulator()


def _daily(sim: CloudSimulator, days: int, **filters: object) -> dict[str, float]:
    midnight = sim.now() // DAY * DAY
    report = sim.costs("day", start=midnight - days * DAY, end=midnight, **filters)  # type: ignore[arg-type]
    return {g.key: g.amount for g in report.groups}


def _weekend(day: str) -> bool:
    return datetime.fromisoformat(day).weekday() >= 5


def test_the_default_clock_stands_part_way_through_a_month(fleet: CloudSimulator) -> None:
    now = datetime.fromtimestamp(fleet.now(), tz=UTC)
    assert (now.day, now.weekday(), now.hour) == (17, 2, 6)  # Wednesday 17 June, 06:00
    first = datetime(now.year, now.month, 1, tzinfo=UTC).timestamp()
    month_to_date = fleet.costs(start=first).total
    assert month_to_date > 0.5 * fleet.costs(start=fleet.now() - 30 * DAY).total


def test_development_machines_on_a_weekend_schedule_dip_the_bill_on_saturdays_and_sundays(
    fleet: CloudSimulator,
) -> None:
    scheduled = [i for i in fleet.list_instances() if i.tags.get(SCHEDULE_TAG) == "weekdays"]
    assert scheduled and all(i.tags["environment"] == "development" for i in scheduled)
    development = _daily(fleet, 28, tags={"environment": "development"})
    production = _daily(fleet, 28, tags={"environment": "production"})

    def weekend_ratio(days: dict[str, float]) -> float:
        weekend = np.mean([v for k, v in days.items() if _weekend(k)])
        weekday = np.mean([v for k, v in days.items() if not _weekend(k)])
        return float(weekend / weekday)

    assert weekend_ratio(development) < 0.7  # stopped machines pay for their disks only
    assert weekend_ratio(production) == pytest.approx(1.0, abs=0.03)


def test_a_scheduled_machine_pays_only_for_its_disk_over_a_weekend(fleet: CloudSimulator) -> None:
    inst = next(i for i in fleet.list_instances() if i.tags.get(SCHEDULE_TAG) and i.pricing_model != "spot")
    saturday = datetime(2026, 6, 13, tzinfo=UTC).timestamp()
    weekend = fleet.costs("service", start=saturday, end=saturday + 2 * DAY, application=inst.application)
    amounts = {g.key: g.amount for g in weekend.groups}
    assert amounts["compute"] == pytest.approx(0.0, abs=1e-9) and amounts["storage"] > 0
    # And it has no metrics then, as CloudWatch has no datapoints for a stopped machine.
    hours = (fleet.now() - saturday) / 3600
    points = fleet.metrics(inst.id, hours=hours).timestamps
    assert not any(saturday <= t < saturday + 2 * DAY for t in points)
    assert any(t >= saturday + 2 * DAY + 7 * 3600 for t in points)


def test_the_schedule_goes_on_as_the_clock_moves() -> None:
    sim = CloudSimulator(seed=3, size=120)
    inst = next(i for i in sim.list_instances() if i.tags.get(SCHEDULE_TAG))
    assert inst.state == "running"
    friday_evening = datetime(2026, 6, 19, 20, 5, tzinfo=UTC).timestamp()
    sim.advance(friday_evening - sim.now())
    assert sim.get_instance(inst.id).state == "stopped"
    monday_morning = datetime(2026, 6, 22, 7, 5, tzinfo=UTC).timestamp()
    sim.advance(monday_morning - sim.now())
    assert sim.get_instance(inst.id).state == "running"
    assert not running_at(friday_evening) and running_at(monday_morning)
    compute = sim.costs(
        "service", start=friday_evening, end=monday_morning - 300, application=inst.application
    )
    assert {g.key: g.amount for g in compute.groups}["compute"] == pytest.approx(0.0, abs=1e-9)


def test_a_machine_started_by_hand_at_the_weekend_runs_until_the_next_friday() -> None:
    sim = CloudSimulator(seed=3, size=120)
    inst = next(i for i in sim.list_instances() if i.tags.get(SCHEDULE_TAG))
    sim.advance(datetime(2026, 6, 20, 9, tzinfo=UTC).timestamp() - sim.now())  # Saturday
    sim.start(inst.id)
    sim.advance(datetime(2026, 6, 26, 19, tzinfo=UTC).timestamp() - sim.now())  # next Friday, 19:00
    assert sim.get_instance(inst.id).state == "running"
    sim.advance(2 * 3600)
    assert sim.get_instance(inst.id).state == "stopped"


def test_a_machine_stopped_by_hand_is_not_started_by_the_schedule() -> None:
    sim = CloudSimulator(seed=3, size=120)
    inst = next(i for i in sim.list_instances() if i.tags.get(SCHEDULE_TAG))
    sim.stop(inst.id)  # someone idle-stopped it on Wednesday
    sim.advance(datetime(2026, 6, 22, 8, tzinfo=UTC).timestamp() - sim.now())  # past Monday 07:00
    assert sim.get_instance(inst.id).state == "stopped"


def test_the_fleet_grows_and_launches_continue(fleet: CloudSimulator) -> None:
    quarter_ago = fleet.costs(start=fleet.now() - 90 * DAY, end=fleet.now() - 60 * DAY).total
    last_month = fleet.costs(start=fleet.now() - 30 * DAY).total
    assert last_month > 1.04 * quarter_ago
    recent = [i for i in fleet.list_instances() if i.launch_time > fleet.now() - 30 * DAY]
    assert recent  # some applications launched in the last month


def test_a_cost_spike_in_the_past_adds_exactly_its_extra_to_the_days_it_covers() -> None:
    sim = CloudSimulator(seed=11, size=150)
    team = next(i for i in sim.list_instances() if i.pricing_model == "on-demand").tags["team"]
    tuesday = datetime(2026, 6, 9, tzinfo=UTC).timestamp()
    plain = sim.costs("service", start=tuesday, end=tuesday + 2 * DAY, tags={"team": team})
    compute = {g.key: g.amount for g in plain.groups}["compute"]
    everyone = sim.costs(start=tuesday, end=tuesday + 2 * DAY).total
    before = _daily(sim, 14, tags={"team": team})

    sim.set_faults({}, cost_spikes=[cost_spike(tuesday, tuesday + 2 * DAY, 1.5, tags={"team": team})])
    after = _daily(sim, 14, tags={"team": team})
    spiked = {"2026-06-09", "2026-06-10"}
    for day in before.keys() - spiked:
        assert after[day] == pytest.approx(before[day], rel=1e-12)
    extra = sum(after[d] - before[d] for d in spiked)
    assert extra == pytest.approx(0.5 * compute, rel=1e-9)
    # Only that team's bill moved.
    assert sim.costs(start=tuesday, end=tuesday + 2 * DAY).total == pytest.approx(everyone + extra, rel=1e-9)


def test_a_cost_spike_can_name_the_machines_that_ran_away() -> None:
    sim = CloudSimulator(seed=11, size=150)
    culprit = next(i for i in sim.list_instances() if i.pricing_model == "on-demand")
    start = sim.now() - 3 * DAY
    sim.set_faults({}, cost_spikes=[cost_spike(start, sim.now(), 4.0, instance_ids=[culprit.id])])
    by_instance = sim.costs("instance", start=start)
    sim.clear_faults()
    plain = {g.key: g.amount for g in sim.costs("instance", start=start).groups}
    moved = {g.key for g in by_instance.groups if g.amount != pytest.approx(plain[g.key], rel=1e-12)}
    assert moved == {culprit.id}


def test_a_cost_spike_is_refused_when_it_makes_no_sense() -> None:
    with pytest.raises(InvalidParameterValue, match="end after it starts"):
        cost_spike(10.0, 5.0, 2.0)
    with pytest.raises(InvalidParameterValue, match="factor"):
        cost_spike(0.0, 5.0, 0.0)


def test_cost_spikes_over_rest() -> None:
    client = TestClient(create_app(CloudSimulator(seed=11, size=60)))
    window: dict[str, str | int] = {"days": 3, "provider": "aws"}
    plain = client.get("/costs", params=window).json()["total"]
    spike = {"start": "2026-06-15T00:00:00Z", "end": "2026-06-16T00:00:00Z", "factor": 3, "provider": "aws"}
    answer = client.post("/faults", json={"cost_spikes": [spike]})
    assert answer.status_code == 200 and answer.json()["cost_spikes"][0]["factor"] == 3
    assert client.get("/faults").json()["cost_spikes"][0]["provider"] == "aws"
    assert client.get("/costs", params=window).json()["total"] > plain
    bad = client.post("/faults", json={"cost_spikes": [{**spike, "end": "2026-06-14T00:00:00Z"}]})
    assert bad.status_code == 422 and "end after it starts" in bad.text
    assert client.get("/faults").json()["cost_spikes"][0]["factor"] == 3  # a refused request changes nothing
    assert client.delete("/faults").json()["cost_spikes"] == []
    assert client.get("/costs", params=window).json()["total"] == pytest.approx(plain)


def test_decommissioned_applications_stay_on_the_bill_they_ran_up_and_leave_the_inventory(
    fleet: CloudSimulator,
) -> None:
    live = {a.name for a in fleet.applications()}
    quarter = fleet.costs("application", start=fleet.now() - 90 * DAY)
    gone = {g.key for g in quarter.groups if g.amount > 0} - live  # some ran within the quarter
    assert len(gone) >= 3
    listed = fleet.list_instances()
    assert len(listed) == 600 and not {i.application for i in listed} & gone
    ran = 0
    for name in sorted(gone):
        daily = fleet.costs("service", start=fleet.now() - 90 * DAY, application=name, daily=True)
        compute = next(g.daily or [] for g in daily.groups if g.key == "compute")
        if max(compute) > 0:  # its machines ran within the quarter (only its snapshots, for some)
            ran += 1
            assert compute[-1] == 0  # then went
    assert ran >= 3
    # What stays on the bill after is what they left behind, as the inventory lists it: detached volumes,
    # snapshots, idle addresses, each at its listed monthly price.
    for name in sorted(gone):
        app = {"application": name}
        left = [v.monthly_price for v in fleet.list_volumes(tags=app).items]
        left += [s.monthly_price for s in fleet.list_snapshots(tags=app).items]
        left += [a.monthly_price for a in fleet.list_addresses(tags=app).items]
        last_day = fleet.costs(start=fleet.now() - DAY, application=name).total
        assert last_day == pytest.approx(sum(left) * 24 / 730, rel=1e-4, abs=1e-9)  # prices to 4 places


def test_fleet_utilisation_of_scheduled_machines_is_their_own_metrics(fleet: CloudSimulator) -> None:
    """The fleet-wide fast path applies the schedule: the same hours and percentiles as each one's metrics."""
    usage = fleet.fleet_utilisation(hours=14 * 24, percentiles=(95.0,))
    row = {iid: k for k, iid in enumerate(usage.instance_ids)}
    scheduled = [i for i in fleet.list_instances() if i.tags.get(SCHEDULE_TAG)][:10]
    for inst in scheduled:
        own = fleet.metrics(inst.id, hours=14 * 24)
        k = row[inst.id]
        assert usage.observed_hours[k] == len(own.timestamps) < 14 * 24
        assert usage.cpu(95.0)[k] == pytest.approx(float(np.percentile(own.cpu_pct, 95)), rel=1e-5)
