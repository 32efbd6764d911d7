import pytest

from mock_cloud import CloudSimulator
from mock_cloud.errors import (
    InsufficientInstanceCapacity,
    InvalidParameterValue,
    RequestLimitExceeded,
    ServiceUnavailable,
    SimulatorError,
)
from mock_cloud.faults import FaultRule
from tests.mock_cloud.conftest import first


def test_throttling_is_retryable_and_changes_nothing(sim: CloudSimulator) -> None:
    inst = first(sim, state="running")
    sim.set_faults({"stop": FaultRule(throttle_rate=1.0)})
    with pytest.raises(RequestLimitExceeded) as caught:
        sim.stop(inst.id)
    assert caught.value.retryable and caught.value.status == 429
    assert sim.get_instance(inst.id).state == inst.state


def test_capacity_errors_hit_placements_only(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", pricing_model="on-demand", tags={"stateful": "false"})
    count = len(sim.list_instances())
    sim.set_faults({"*": FaultRule(capacity_error_rate=1.0)})
    with pytest.raises(InsufficientInstanceCapacity):
        sim.migrate(inst.id, "spot")
    assert len(sim.list_instances()) == count  # no replacement half-launched
    assert sim.stop(inst.id).state.value == "stopping"  # stopping needs no capacity


def test_error_rate_is_deterministic_under_a_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        s = CloudSimulator(seed=seed, size=20)
        s.set_faults({"get_instance": FaultRule(error_rate=0.3)})
        target = s.list_instances()[0].id
        result = []
        for _ in range(200):
            try:
                s.get_instance(target)
                result.append("ok")
            except ServiceUnavailable:
                result.append("error")
        return result

    first_run = outcomes(8)
    assert first_run == outcomes(8)
    assert 0.2 < first_run.count("error") / len(first_run) < 0.4


def test_latency_advances_the_virtual_clock(sim: CloudSimulator) -> None:
    sim.set_faults({"list_instances": FaultRule(latency_seconds=2.5)})
    before = sim.now()
    sim.list_instances(provider="aws")
    assert sim.now() == pytest.approx(before + 2.5)


def test_bad_fault_rules_are_refused() -> None:
    sim = CloudSimulator(seed=1, size=5)
    with pytest.raises(InvalidParameterValue, match="expected '\\*' or one of"):
        sim.set_faults({"reboot": FaultRule(error_rate=0.1)})
    with pytest.raises(InvalidParameterValue):
        FaultRule(error_rate=1.5)
    with pytest.raises(InvalidParameterValue, match="must not exceed 1"):
        FaultRule(error_rate=0.6, throttle_rate=0.6)


def test_errors_carry_cloud_codes() -> None:
    codes = {cls.code for cls in SimulatorError.__subclasses__()}
    assert {"IncorrectInstanceState", "InvalidInstanceType", "RequestLimitExceeded"} <= codes
    assert "InsufficientInstanceCapacity" in codes
