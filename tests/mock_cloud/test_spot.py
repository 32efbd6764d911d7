import numpy as np
import pytest

from mock_cloud import CloudSimulator
from mock_cloud.errors import IncorrectInstanceState
from mock_cloud.instances import State
from tests.mock_cloud.conftest import first


@pytest.mark.parametrize(("provider", "notice", "end_state"), [
    ("aws", 120, State.TERMINATED), ("gcp", 30, State.STOPPED), ("azure", 30, State.STOPPED),
])  # fmt: skip
def test_interruption_comes_with_the_provider_notice(provider: str, notice: int, end_state: State) -> None:
    sim = CloudSimulator(seed=21, size=400)
    spot = first(sim, provider=provider, pricing_model="spot", state="running")
    noticed = sim.interrupt(spot.id)
    assert noticed.interruption_notice_at == sim.now()
    assert noticed.interruption_at == pytest.approx(sim.now() + notice)
    sim.advance(notice - 1)
    assert sim.get_instance(spot.id).state is State.RUNNING
    sim.advance(1)
    assert sim.get_instance(spot.id).state is end_state


def test_only_running_spot_instances_can_be_interrupted(sim: CloudSimulator) -> None:
    with pytest.raises(IncorrectInstanceState, match="spot"):
        sim.interrupt(first(sim, pricing_model="on-demand").id)


def test_spot_instances_are_interrupted_over_time_with_notice() -> None:
    sim = CloudSimulator(seed=21, size=1500)
    spot_ids = {i.id for i in sim.list_instances(pricing_model="spot")}
    sim.advance(120 * 86400)
    interrupted = [e for e in sim.events() if e.kind == "spot_interrupted"]
    notices = {e.instance_id: e.time for e in sim.events() if e.kind == "spot_interruption_notice"}
    assert 0 < len(interrupted) < len(spot_ids)
    for event in interrupted:
        provider = sim.get_instance(event.instance_id).provider
        assert event.time - notices[event.instance_id] == pytest.approx(120 if provider == "aws" else 30)


def test_spot_prices_walk_around_the_catalog_price() -> None:
    sim = CloudSimulator(seed=3, size=10)
    base = sim.catalog.offering("aws", "us-east-1", "m5.large").spot_hourly
    prices = np.array([p for _, p in sim.spot_price_history("aws", "us-east-1", "m5.large", hours=24 * 30)])
    assert np.all((prices >= 0.6 * base) & (prices <= 1.6 * base))
    assert prices.std() > 0.02 * base  # it moves
    assert abs(prices.mean() / base - 1) < 0.15
    other_seed = CloudSimulator(seed=4, size=10).spot_price_history("aws", "us-east-1", "m5.large", hours=48)
    assert [p for _, p in other_seed] != prices[-48:].tolist()


def test_a_spot_instance_is_priced_at_the_market(sim: CloudSimulator) -> None:
    spot = first(sim, pricing_model="spot", state="running")
    market = sim.spot.price(spot.provider, spot.region, spot.instance_type, sim.now())
    assert spot.hourly_price == pytest.approx(market, abs=1e-6)
