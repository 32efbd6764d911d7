"""Retries and the circuit breaker against the real simulator with injected faults (backoff is virtual)."""

from __future__ import annotations

import pytest

from mock_cloud import CloudSimulator
from mock_cloud.faults import FaultRule
from tests.conftest import free_port
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.errors import InstanceNotFoundError, ProviderUnavailableError, ThrottledError
from tools.resilience import CircuitBreaker, ResilientProvider, RetryPolicy


def resilient(sim: CloudSimulator, **kwargs: object) -> ResilientProvider:
    return ResilientProvider(SimulatorProvider(sim), sleep=sim.advance, **kwargs)  # type: ignore[arg-type]


def test_throttling_is_retried_with_growing_waits() -> None:
    sim = CloudSimulator(seed=3, size=30)
    target = sim.list_instances()[0].id
    sim.set_faults({"get_instance": FaultRule(throttle_rate=0.6)})
    provider = resilient(sim, policy=RetryPolicy(attempts=10, base_seconds=1.0, cap_seconds=60.0))
    start = sim.now()
    for _ in range(5):
        assert provider.get_instance(target).id == target
    assert provider.retries > 0
    assert (
        0 < sim.now() - start <= sum(min(60.0, 2.0**k) for k in range(10)) * 5
    )  # waits passed as virtual time


def test_retries_give_up_with_the_typed_error() -> None:
    sim = CloudSimulator(seed=3, size=30)
    sim.set_faults({"get_instance": FaultRule(throttle_rate=1.0)})
    provider = resilient(sim, policy=RetryPolicy(attempts=3))
    with pytest.raises(ThrottledError):
        provider.get_instance(sim.list_instances()[0].id)
    assert provider.retries == 2


def test_refusals_are_not_retried() -> None:
    sim = CloudSimulator(seed=3, size=30)
    provider = resilient(sim)
    with pytest.raises(InstanceNotFoundError):
        provider.get_instance("i-0missing")
    assert provider.retries == 0


def test_a_retried_mutation_changes_the_cloud_once() -> None:
    sim = CloudSimulator(seed=3, size=60)
    inst = sim.list_instances(state="running", pricing_model="on-demand", tags={"stateful": "false"})[0]
    sim.set_faults({"migrate": FaultRule(capacity_error_rate=0.5)})
    provider = resilient(sim, policy=RetryPolicy(attempts=20))
    first = provider.migrate(inst.id, "spot", "wf-1/" + inst.id)
    again = provider.migrate(inst.id, "spot", "wf-1/" + inst.id)
    assert first.replacement.id == again.replacement.id
    assert len([i for i in sim.list_instances() if i.tags.get("replaces") == inst.id]) == 1


def test_the_breaker_opens_on_outages_and_closes_after_a_good_trial() -> None:
    sim = CloudSimulator(seed=3, size=30)
    target = sim.list_instances()[0].id
    sim.set_faults({"*": FaultRule(error_rate=1.0)})
    breaker = CircuitBreaker(threshold=3, reset_seconds=60, clock=sim.now)
    provider = resilient(sim, policy=RetryPolicy(attempts=3), breaker=breaker)
    with pytest.raises(ProviderUnavailableError):
        provider.get_instance(target)
    assert breaker.state == "open"
    with pytest.raises(ProviderUnavailableError, match="circuit open"):
        provider.get_instance(target)  # fails fast, without calling the cloud
    sim.clear_faults()
    sim.advance(60)
    assert breaker.state == "half-open"
    assert provider.get_instance(target).id == target
    assert breaker.state == "closed"


def test_a_cloud_that_is_down_is_a_typed_error_not_a_hang() -> None:
    provider = ResilientProvider(
        SimulatorHttpProvider(f"http://127.0.0.1:{free_port()}", timeout=2.0),  # nothing listens there
        policy=RetryPolicy(attempts=3, base_seconds=0.0),
        sleep=lambda _: None,
    )
    with pytest.raises(ProviderUnavailableError, match="cannot reach"):
        provider.list_instances()
    assert provider.retries == 2
