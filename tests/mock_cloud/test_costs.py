import pytest

from mock_cloud import CloudSimulator
from mock_cloud.costs import HOURS_PER_MONTH, STORAGE_GB_MONTH
from mock_cloud.errors import InvalidParameterValue
from tests.mock_cloud.conftest import first


@pytest.mark.parametrize(
    "group_by",
    [
        "provider",
        "region",
        "service",
        "day",
        "instance_type",
        "pricing_model",
        "application",
        "tag:team",
        "tag:x",
    ],
)
def test_breakdowns_add_up_to_the_total(sim: CloudSimulator, group_by: str) -> None:
    report = sim.costs(group_by)
    assert report.total > 0
    assert sum(g.amount for g in report.groups) == pytest.approx(report.total, rel=1e-9)
    amounts = [g.amount for g in report.groups]
    assert amounts == sorted(amounts, reverse=True)


def test_day_breakdown_has_one_group_per_day(sim: CloudSimulator) -> None:
    midnight = sim.now() // 86400 * 86400
    report = sim.costs("day", start=midnight - 7 * 86400, end=midnight)
    assert len(report.groups) == 7
    # A window that starts part-way through a day has that day and today as partial groups.
    assert len(sim.costs("day", start=sim.now() - 7 * 86400).groups) == 8


def test_an_hour_of_an_on_demand_machine_costs_its_price_plus_storage(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", pricing_model="on-demand")
    sim.advance(3600)
    ((_, amount),) = sim.instance_hourly_costs(inst.id, hours=1)
    storage = inst.volume_gb * STORAGE_GB_MONTH[inst.provider] / HOURS_PER_MONTH
    assert amount == pytest.approx(inst.hourly_price + storage)


def test_a_stopped_machine_pays_only_for_storage(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", pricing_model="on-demand")
    sim.stop(inst.id)
    sim.advance(7200)
    ((_, amount),) = sim.instance_hourly_costs(inst.id, hours=1)
    assert amount == pytest.approx(inst.volume_gb * STORAGE_GB_MONTH[inst.provider] / HOURS_PER_MONTH)


def test_spot_is_billed_at_the_market_price_of_each_hour(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", pricing_model="spot")
    sim.advance(4 * 3600)
    storage = inst.volume_gb * STORAGE_GB_MONTH[inst.provider] / HOURS_PER_MONTH
    for hour_start, amount in sim.instance_hourly_costs(inst.id, hours=3)[:-1]:
        market = sim.spot.price(inst.provider, inst.region, inst.instance_type, hour_start)
        assert amount == pytest.approx(market + storage)


def test_costs_accrue_with_time(sim: CloudSimulator) -> None:
    start = sim.now() - 86400
    before = sim.costs(start=start).total
    sim.advance(86400)
    assert sim.costs(start=start).total > before


def test_bad_cost_requests(sim: CloudSimulator) -> None:
    with pytest.raises(InvalidParameterValue, match="expected one of"):
        sim.costs("colour")
    with pytest.raises(InvalidParameterValue, match="future"):
        sim.costs(end=sim.now() + 3600)
    with pytest.raises(InvalidParameterValue, match="after its start"):
        sim.costs(start=sim.now(), end=sim.now() - 10)
