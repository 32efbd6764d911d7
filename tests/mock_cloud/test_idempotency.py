import pytest

from mock_cloud import CloudSimulator
from mock_cloud.errors import IdempotentParameterMismatch, RequestLimitExceeded
from mock_cloud.faults import FaultRule
from tests.mock_cloud.conftest import first


def test_same_key_returns_the_first_result_and_changes_nothing(sim: CloudSimulator) -> None:
    inst = first(sim, state="running")
    first_result = sim.stop(inst.id, idempotency_key="k-1")
    events = len(sim.events())
    again = sim.stop(inst.id, idempotency_key="k-1")
    assert again.id == first_result.id and again.state == first_result.state
    assert len(sim.events()) == events


def test_a_retried_migration_launches_one_replacement(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", pricing_model="on-demand", tags={"stateful": "false"})
    one = sim.migrate(inst.id, "spot", idempotency_key="wf-1/wave-1/" + inst.id)
    sim.wait_until_stable(one.replacement.id)
    two = sim.migrate(inst.id, "spot", idempotency_key="wf-1/wave-1/" + inst.id)
    assert two.replacement.id == one.replacement.id
    replacements = [i for i in sim.list_instances() if i.tags.get("replaces") == inst.id]
    assert len(replacements) == 1


def test_a_key_reused_for_another_request_is_refused(sim: CloudSimulator) -> None:
    a, b = sim.list_instances(state="running")[:2]
    sim.stop(a.id, idempotency_key="shared")
    with pytest.raises(IdempotentParameterMismatch, match="already used for stop"):
        sim.stop(b.id, idempotency_key="shared")
    with pytest.raises(IdempotentParameterMismatch):
        sim.terminate(a.id, idempotency_key="shared")
    assert sim.get_instance(b.id).state == b.state


def test_a_failed_call_does_not_consume_its_key(sim: CloudSimulator) -> None:
    inst = first(sim, state="running")
    sim.set_faults({"stop": FaultRule(throttle_rate=1.0)})
    with pytest.raises(RequestLimitExceeded):
        sim.stop(inst.id, idempotency_key="retry-me")
    assert sim.get_instance(inst.id).state == inst.state
    sim.clear_faults()
    assert sim.stop(inst.id, idempotency_key="retry-me").state.value == "stopping"
