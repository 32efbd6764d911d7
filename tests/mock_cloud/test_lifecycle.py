import pytest

from mock_cloud import CloudSimulator
from mock_cloud.errors import (
    IncorrectInstanceState,
    InstanceNotFound,
    InvalidInstanceType,
    InvalidParameterValue,
)
from mock_cloud.instances import State
from mock_cloud.lifecycle import BOOT_SECONDS
from tests.mock_cloud.conftest import first


def test_stop_then_start_walks_through_the_real_states(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", provider="aws")
    stopping = sim.stop(inst.id)
    assert stopping.state is State.STOPPING and stopping.state_transition_until is not None
    assert sim.wait_until_stable(inst.id).state is State.STOPPED
    pending = sim.start(inst.id)
    assert pending.state is State.PENDING
    assert pending.state_transition_until is not None
    boot = pending.state_transition_until - sim.now()
    assert BOOT_SECONDS[0] <= boot <= BOOT_SECONDS[1]
    sim.advance(boot - 0.5)
    assert sim.get_instance(inst.id).state is State.PENDING
    sim.advance(1)
    assert sim.get_instance(inst.id).state is State.RUNNING


def test_resize_needs_a_stopped_instance(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", provider="aws")
    with pytest.raises(IncorrectInstanceState, match="must be stopped"):
        sim.resize(inst.id, "m5.large")
    assert sim.get_instance(inst.id).instance_type == inst.instance_type


def test_resize_of_a_stopped_instance_changes_its_shape_and_price(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", provider="aws", pricing_model="on-demand")
    sim.stop(inst.id)
    sim.wait_until_stable(inst.id)
    target = "m5.4xlarge" if inst.instance_type != "m5.4xlarge" else "m5.2xlarge"
    resized = sim.resize(inst.id, target)
    assert resized.instance_type == target
    assert resized.vcpus == sim.catalog.get("aws", target).vcpus
    assert resized.hourly_price == pytest.approx(
        sim.catalog.offering("aws", inst.region, target).on_demand_hourly
    )
    assert sim.start(inst.id).instance_type == target


def test_unknown_or_unavailable_types_are_refused(sim: CloudSimulator) -> None:
    inst = first(sim, state="running", provider="aws")
    sim.stop(inst.id)
    sim.wait_until_stable(inst.id)
    with pytest.raises(InvalidInstanceType, match="does not exist"):
        sim.resize(inst.id, "m5.enormous")
    with pytest.raises(InvalidInstanceType):
        sim.resize(inst.id, "n1-standard-2")  # a GCP type on AWS
    assert sim.get_instance(inst.id).instance_type == inst.instance_type


def test_terminated_is_final(sim: CloudSimulator) -> None:
    inst = first(sim, state="running")
    assert sim.terminate(inst.id).state is State.SHUTTING_DOWN
    assert sim.wait_until_stable(inst.id).state is State.TERMINATED
    assert sim.terminate(inst.id).state is State.TERMINATED  # terminating twice changes nothing
    with pytest.raises(IncorrectInstanceState, match="cannot|not in a state"):
        sim.start(inst.id)
    with pytest.raises(IncorrectInstanceState):
        sim.stop(inst.id)


def test_unknown_instance(sim: CloudSimulator) -> None:
    with pytest.raises(InstanceNotFound, match="i-0000"):
        sim.get_instance("i-0000")
    with pytest.raises(InstanceNotFound):
        sim.stop("i-0000")


def test_migration_to_spot_replaces_the_instance(sim: CloudSimulator) -> None:
    original = first(sim, state="running", pricing_model="on-demand", tags={"stateful": "false"})
    migration = sim.migrate(original.id, "spot")
    replacement = migration.replacement
    assert replacement.id != original.id
    assert replacement.pricing_model == "spot"
    assert replacement.state is State.PENDING
    assert (replacement.instance_type, replacement.region) == (original.instance_type, original.region)
    assert replacement.tags == {**original.tags, "replaces": original.id}
    # The original keeps serving until its replacement runs, then retires.
    assert sim.get_instance(original.id).state is State.RUNNING
    sim.wait_until_stable(replacement.id)
    assert sim.get_instance(original.id).state is State.SHUTTING_DOWN
    sim.advance(60)
    assert sim.get_instance(original.id).state is State.TERMINATED
    assert sim.get_instance(original.id).replaced_by == replacement.id
    assert sim.get_instance(replacement.id).hourly_price < original.hourly_price


def test_migration_back_to_on_demand(sim: CloudSimulator) -> None:
    spot = first(sim, state="running", pricing_model="spot")
    back = sim.migrate(spot.id, "on-demand").replacement
    sim.wait_until_stable(back.id)
    sim.advance(60)
    assert sim.get_instance(back.id).pricing_model == "on-demand"
    assert sim.get_instance(back.id).state is State.RUNNING
    assert sim.get_instance(spot.id).state is State.TERMINATED


def test_migration_refusals(sim: CloudSimulator) -> None:
    spot = first(sim, state="running", pricing_model="spot")
    with pytest.raises(InvalidParameterValue, match="already spot"):
        sim.migrate(spot.id, "spot")
    with pytest.raises(InvalidParameterValue, match="billing commitment"):
        sim.migrate(spot.id, "reserved")
    with pytest.raises(InvalidParameterValue, match="Unknown pricing model"):
        sim.migrate(spot.id, "cheap")
    stopped = first(sim, state="running", pricing_model="on-demand")
    sim.stop(stopped.id)
    with pytest.raises(IncorrectInstanceState, match="must be running"):
        sim.migrate(stopped.id, "spot")
    before = len(sim.list_instances())
    replaced = sim.migrate(spot.id, "on-demand")
    with pytest.raises(IncorrectInstanceState, match=f"already replaced by {replaced.replacement.id}"):
        sim.migrate(spot.id, "on-demand")
    assert len(sim.list_instances()) == before + 1


def test_filters_combine(sim: CloudSimulator) -> None:
    inst = first(sim, provider="azure")
    found = sim.list_instances(
        provider="azure", region=inst.region, state="running", tags={"team": inst.tags["team"]}
    )
    assert inst in found
    assert all(
        i.provider == "azure" and i.region == inst.region and i.tags["team"] == inst.tags["team"]
        for i in found
    )
    assert sim.list_instances(application=inst.application)
    page = sim.page_instances(provider="azure", offset=2, limit=3)
    assert page.total == len(sim.list_instances(provider="azure"))
    assert page.instances == sim.list_instances(provider="azure")[2:5]
    with pytest.raises(InvalidParameterValue, match="Unknown state"):
        sim.list_instances(state="sleeping")
