import numpy as np
import pytest

from mock_cloud import CloudSimulator
from mock_cloud.errors import ApplicationNotFound, InvalidParameterValue
from mock_cloud.quality import CLIENT_TIMEOUT_MS
from mock_cloud.views import InstanceView


def twins(size: int = 400) -> tuple[CloudSimulator, CloudSimulator]:
    """Two identical clouds: changes go to the first, the second shows what would have happened without."""
    return CloudSimulator(seed=31, size=size), CloudSimulator(seed=31, size=size)


def busy_multi_replica(sim: CloudSimulator, shrink: int = 4) -> InstanceView:
    """A replica of a moderately busy AWS application whose type has a size `shrink` times smaller."""
    usage = sim.fleet_utilisation(hours=24)
    p95 = dict(zip(usage.instance_ids, usage.cpu(95).tolist(), strict=True))
    for app in sim.applications():
        inst = sim.get_instance(app.instance_ids[0])
        if app.replicas >= 3 and 20 < p95[inst.id] < 45 and inst.provider == "aws":
            if smaller_type(sim, inst, shrink) is not None:
                return inst
    raise AssertionError("no suitable application in the fleet")


def smaller_type(sim: CloudSimulator, inst: InstanceView, factor: int) -> str | None:
    family = sim.catalog.get(inst.provider, inst.instance_type).family
    return next(
        (
            t.name
            for t in sim.catalog.types(inst.provider)
            if t.family == family and t.vcpus * factor == inst.vcpus and t.offered_in(inst.region)
        ),
        None,
    )


def resize(sim: CloudSimulator, instance_id: str, instance_type: str) -> None:
    sim.stop(instance_id)
    sim.wait_until_stable(instance_id)
    sim.resize(instance_id, instance_type)
    sim.start(instance_id)
    sim.wait_until_stable(instance_id)


def test_metrics_do_not_depend_on_how_they_are_asked() -> None:
    a, _ = twins(100)
    inst = a.list_instances()[3]
    long = a.metrics(inst.id, hours=48)
    short = a.metrics(inst.id, hours=24)
    np.testing.assert_array_equal(long.cpu_pct[-24:], short.cpu_pct)
    np.testing.assert_array_equal(long.timestamps[-24:], short.timestamps)


def test_a_smaller_type_raises_utilisation_from_the_change_on() -> None:
    changed, untouched = twins()
    inst = busy_multi_replica(changed)
    target = smaller_type(changed, inst, 2)
    assert target is not None
    resize(changed, inst.id, target)
    for sim in (changed, untouched):
        sim.advance(3 * 3600 - (sim.now() - untouched.now()))
    after = changed.metrics(inst.id, hours=2)
    baseline = untouched.metrics(inst.id, hours=2)
    np.testing.assert_allclose(after.cpu_pct, np.minimum(2 * baseline.cpu_pct, 100), rtol=1e-4)
    # Before the change, the two histories are the same (hour by hour, where the machine ran).
    history, twin = changed.metrics(inst.id, hours=24 * 3), untouched.metrics(inst.id, hours=24 * 3)
    before = history.timestamps < untouched.now() - 3 * 3600 - 3600
    assert before.sum() >= 24  # (a weekend-scheduled machine has no points while it was stopped)
    np.testing.assert_array_equal(
        history.cpu_pct[before], twin.cpu_pct[np.isin(twin.timestamps, history.timestamps[before])]
    )


def test_an_undersized_application_gets_slower() -> None:
    changed, untouched = twins()
    inst = busy_multi_replica(changed)
    app = changed.application(inst.application)
    for replica in app.instance_ids:
        target = smaller_type(changed, changed.get_instance(replica), 4)
        assert target is not None
        resize(changed, replica, target)
    untouched.advance(changed.now() - untouched.now())
    for sim in (changed, untouched):
        sim.advance(1800)
    slow = changed.application_quality(app.name, minutes=30)
    normal = untouched.application_quality(app.name, minutes=30)
    assert slow.p95_latency_ms.mean() > 1.5 * normal.p95_latency_ms.mean()
    assert slow.error_rate.mean() >= normal.error_rate.mean()


def test_a_stopped_replica_has_no_datapoints_and_its_peers_take_its_load() -> None:
    changed, untouched = twins()
    inst = busy_multi_replica(changed)
    peer = next(i for i in changed.application(inst.application).instance_ids if i != inst.id)
    changed.stop(inst.id)
    for sim in (changed, untouched):
        sim.advance(2 * 3600)
    assert len(changed.metrics(inst.id, hours=1).timestamps) == 0
    assert changed.metrics(peer, hours=1).cpu_pct.mean() > untouched.metrics(peer, hours=1).cpu_pct.mean()


def test_an_application_with_no_replica_up_times_out() -> None:
    sim, _ = twins(100)
    app = next(a for a in sim.applications() if a.replicas == 1)
    sim.stop(app.instance_ids[0])
    sim.advance(900)
    report = sim.application_quality(app.name, minutes=10)
    assert report.serving_replicas == 0
    assert report.p95_latency_ms[-1] == CLIENT_TIMEOUT_MS and report.error_rate[-1] == 1.0


def test_gpu_metrics_only_on_gpu_types() -> None:
    sim = CloudSimulator(seed=11, size=600)
    gpu = next(i for i in sim.list_instances(state="running") if i.gpu_count > 0)
    cpu_only = next(i for i in sim.list_instances(state="running") if i.gpu_count == 0)
    gpu_pct = sim.metrics(gpu.id).gpu_pct
    assert gpu_pct is not None and 0 < gpu_pct.mean() <= 100
    assert sim.metrics(cpu_only.id).gpu_pct is None


def test_fleet_percentiles_match_per_instance_series() -> None:
    sim = CloudSimulator(seed=12, size=300)
    changed = sim.list_instances(state="running")[5]
    sim.stop(changed.id)  # its application now takes the history-replaying path
    sim.advance(6 * 3600)
    usage = sim.fleet_utilisation(hours=14 * 24, percentiles=(50, 95, 99.5))
    index = {iid: k for k, iid in enumerate(usage.instance_ids)}
    for inst in sim.list_instances(state="running")[:40] + [sim.get_instance(changed.id)]:
        series = sim.metrics(inst.id, hours=14 * 24)
        k = index[inst.id]
        assert usage.observed_hours[k] == len(series.timestamps)
        if len(series.timestamps):
            for q in (50, 95, 99.5):
                assert usage.cpu(q)[k] == pytest.approx(np.percentile(series.cpu_pct, q), rel=1e-4)
                assert usage.memory(q)[k] == pytest.approx(np.percentile(series.memory_pct, q), rel=1e-4)
            assert usage.cpu_mean_pct[k] == pytest.approx(series.cpu_pct.mean(dtype=np.float64), rel=1e-5)
            network = series.network_in_mbps.astype(np.float64) + series.network_out_mbps
            assert usage.network_mean_mbps[k] == pytest.approx(network.mean(), rel=1e-5)


def test_degradation_fault_hits_only_the_machines_changed_after_it() -> None:
    changed, untouched = twins()
    inst = busy_multi_replica(changed)
    bystander = next(a for a in changed.applications() if a.name != inst.application)
    changed.set_faults({}, degradation=(2.0, 0.05))
    replacement = changed.migrate(inst.id, "spot").replacement
    for sim in (changed, untouched):
        sim.advance(1200)
    hit = changed.target_quality(inst.application, minutes=10)
    normal = untouched.target_quality(inst.application, minutes=10)
    rows, normal_rows = hit.instance_ids.index, normal.instance_ids.index
    # The replacement serves the slot its original served: twice as slow, 5 points more errors.
    slow, usual = hit.p95_latency_ms[rows(replacement.id)], normal.p95_latency_ms[normal_rows(inst.id)]
    assert np.nanmean(slow) > 1.8 * np.nanmean(usual)
    assert (
        np.nanmean(hit.error_rate[rows(replacement.id)])
        > np.nanmean(normal.error_rate[normal_rows(inst.id)]) + 0.04
    )
    for peer in (i for i in normal.instance_ids if i != inst.id):  # its peers were not changed: as before
        np.testing.assert_allclose(hit.p95_latency_ms[rows(peer)], normal.p95_latency_ms[normal_rows(peer)])
    service = changed.application_quality(inst.application, minutes=10, step=60)
    assert (service.p95_latency_ms >= slow).all()  # the slowest target shapes the service's tail
    np.testing.assert_allclose(
        changed.application_quality(bystander.name).p95_latency_ms,
        untouched.application_quality(bystander.name).p95_latency_ms,
    )


def test_bad_metric_requests() -> None:
    sim, _ = twins(20)
    inst = sim.list_instances()[0]
    with pytest.raises(InvalidParameterValue, match="hours"):
        sim.metrics(inst.id, hours=-1)
    with pytest.raises(InvalidParameterValue, match="period"):
        sim.metrics(inst.id, period=7)
    with pytest.raises(ApplicationNotFound):
        sim.application_quality("no-such-app")
