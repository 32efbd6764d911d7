"""One contract, every adapter: the same behaviour whichever cloud is behind the provider."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.tools.conftest import Backend
from tools.errors import (
    ApplicationNotFoundError,
    IncorrectStateError,
    InstanceNotFoundError,
    InvalidInstanceTypeError,
    InvalidRequestError,
    ThrottledError,
    UnsupportedOperationError,
)
from tools.models import Instance, InstanceFilter
from tools.provider import CloudProvider


def running(cloud: CloudProvider, **filters: object) -> Instance:
    found = cloud.list_instances(InstanceFilter.model_validate({"state": "running", **filters}))
    assert found, filters
    return found[0]


def test_it_is_a_cloud_provider(backend: Backend) -> None:
    assert isinstance(backend.provider, CloudProvider)


def test_the_clock_is_the_clouds(backend: Backend) -> None:
    now = backend.provider.now()
    assert now.utcoffset() is not None and now.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    if backend.start is not None:
        assert now == backend.start


def test_sleeping_until_a_moment(backend: Backend) -> None:
    now = backend.provider.now()
    assert backend.provider.sleep_until(now - timedelta(hours=1)) == now  # the past: nothing to wait for
    if backend.start is not None:  # a simulator: its time moves only when asked to
        reached = backend.provider.sleep_until(now + timedelta(minutes=30))
        assert reached >= now + timedelta(minutes=30) and backend.provider.now() == reached


def test_list_and_filter(backend: Backend) -> None:
    everything = backend.provider.list_instances()
    assert len(everything) == backend.size
    cloud = backend.cloud.name
    own = backend.provider.list_instances(InstanceFilter(provider=cloud, state="running"))
    assert own and all(i.provider == cloud and i.state == "running" for i in own)
    team = everything[0].tags["team"]
    tagged = backend.provider.list_instances(InstanceFilter(tags={"team": team}))
    assert tagged and all(i.tags["team"] == team for i in tagged)
    assert backend.provider.get_instance(everything[3].id) == everything[3]


def test_a_page_is_that_slice_of_the_listing(backend: Backend) -> None:
    scope = InstanceFilter(provider=backend.cloud.name)
    listed = backend.provider.list_instances(scope)
    page = backend.provider.page_instances(scope, offset=3, limit=4)
    assert page.total == len(listed) and [i.id for i in page.instances] == [i.id for i in listed[3:7]]
    beyond = backend.provider.page_instances(scope, offset=len(listed), limit=4)
    assert beyond.total == len(listed) and beyond.instances == []


def test_unknown_instance(backend: Backend) -> None:
    with pytest.raises(InstanceNotFoundError) as caught:
        backend.provider.get_instance("i-0000000000000000")
    assert not caught.value.retryable


def test_instance_types_carry_catalog_prices(backend: Backend) -> None:
    size, region, price = backend.cloud.priced
    types = {t.name: t for t in backend.provider.instance_types(backend.cloud.name, region)}
    assert types[size].on_demand_hourly == price and types[size].vcpus == 2
    if backend.cloud.name == "aws":
        assert types["m5.xlarge"].price_source == "estimated"  # a hole in the bundled data, said so
    with pytest.raises(InvalidRequestError, match="oracle"):
        backend.provider.instance_types("oracle")


def test_metrics_and_utilisation(backend: Backend) -> None:
    inst = running(backend.provider)
    series = backend.provider.metrics(inst.id, hours=24)
    assert len(series.timestamps) == len(series.cpu_pct) == len(series.network_mbps) > 0
    summary = backend.provider.utilisation(hours=24, percentiles=(50, 95))
    k = summary.instance_ids.index(inst.id)
    assert summary.cpu(95)[k] == pytest.approx(np.percentile(series.cpu_pct, 95), rel=1e-3)
    assert summary.cpu(50)[k] <= summary.cpu(95)[k]
    with pytest.raises(InvalidRequestError):
        backend.provider.metrics(inst.id, hours=-1)


def test_state_changes_are_idempotent(backend: Backend) -> None:
    inst = running(backend.provider)
    first = backend.provider.stop(inst.id, "contract-stop")
    again = backend.provider.stop(inst.id, "contract-stop")
    assert first.id == again.id and again.state in ("stopping", "stopped")
    assert backend.provider.wait_until_stable(inst.id).state == "stopped"
    started = backend.provider.start(inst.id, "contract-start")
    assert started.state in ("pending", "running")  # EC2 answers pending; moto may already be running
    assert backend.provider.wait_until_stable(inst.id).state == "running"


def test_tags_are_set_and_removed(backend: Backend) -> None:
    """What an off-hours schedule rests on: a tag written, read back by every listing, taken off again."""
    inst = running(backend.provider, provider=backend.cloud.name)
    key = "contract-tag"
    assert backend.provider.writes_tags() == (backend.cloud.name != "gcp")
    if backend.cloud.name == "gcp":  # a GCE label cannot hold a schedule's time zone: refused, not mangled
        with pytest.raises(UnsupportedOperationError, match="labels"):
            backend.provider.set_tags(inst.id, {"off-hours": "20:00-07:00 Europe/Berlin"}, key)
        return
    tagged = backend.provider.set_tags(inst.id, {"off-hours": "20:00-07:00 Europe/Berlin", "owner": "x"}, key)
    assert tagged.tags["off-hours"] == "20:00-07:00 Europe/Berlin" and tagged.tags["owner"] == "x"
    assert backend.provider.set_tags(inst.id, {"off-hours": "20:00-07:00 Europe/Berlin", "owner": "x"}, key)
    listed = backend.provider.list_instances(InstanceFilter(tags={"off-hours": "20:00-07:00 Europe/Berlin"}))
    assert [i.id for i in listed] == [inst.id]
    untagged = backend.provider.set_tags(inst.id, {}, f"{key}-off", remove=["off-hours", "absent"])
    assert "off-hours" not in untagged.tags and untagged.tags["owner"] == "x"
    assert untagged.tags.get("application") == inst.tags.get("application")  # the others kept
    with pytest.raises(InstanceNotFoundError):
        backend.provider.set_tags("i-0000000000000000", {"a": "b"}, f"{key}-missing")


def test_resize_stops_resizes_and_starts(backend: Backend) -> None:
    inst = running(backend.provider, provider=backend.cloud.name, pricing_model="on-demand")
    small, large = backend.cloud.sizes
    target = small if inst.instance_type != small else large
    resized = backend.provider.resize(inst.id, target, "contract-resize")
    assert (resized.instance_type, resized.state) == (target, "running")
    again = backend.provider.resize(inst.id, target, "contract-resize")  # a retry after a crash
    assert (again.instance_type, again.state) == (target, "running")


def test_a_refused_resize_changes_nothing(backend: Backend) -> None:
    inst = running(backend.provider, provider=backend.cloud.name)
    with pytest.raises(InvalidInstanceTypeError):
        backend.provider.resize(inst.id, backend.cloud.unknown_size, "contract-bad-resize")
    assert backend.provider.get_instance(inst.id).state == "running"


def test_migration_to_spot_and_its_replay(backend: Backend) -> None:
    inst = running(backend.provider, pricing_model="on-demand", tags={"stateful": "false"})
    migration = backend.provider.migrate(inst.id, "spot", "contract-migrate")
    assert migration.replacement.pricing_model == "spot"
    assert migration.replacement.tags["replaces"] == inst.id
    replay = backend.provider.migrate(inst.id, "spot", "contract-migrate")
    assert replay.replacement.id == migration.replacement.id
    backend.provider.wait_until_stable(migration.replacement.id)
    with pytest.raises(IncorrectStateError):
        backend.provider.migrate(inst.id, "spot", "contract-migrate-again")


def test_application_quality(backend: Backend) -> None:
    inst = running(backend.provider)
    assert inst.application is not None
    quality = backend.provider.application_quality(inst.application, minutes=30)
    assert len(quality.p95_latency_ms) == 6 and quality.desired_replicas >= 1
    with pytest.raises(ApplicationNotFoundError):
        backend.provider.application_quality("no-such-application")


def test_quality_per_target(backend: Backend) -> None:
    inst = running(backend.provider)
    assert inst.application is not None
    targets = backend.provider.target_quality(inst.application, minutes=30, step_seconds=300)
    assert targets.application == inst.application and inst.id in targets.instance_ids
    assert targets.p95_latency_ms.shape == (len(targets.instance_ids), 6) == targets.error_rate.shape
    row = targets.row(inst.id)
    assert (targets.p95_latency_ms[row] > 0).all() and (targets.error_rate[row] >= 0).all()
    earlier = backend.provider.target_quality(
        inst.application, minutes=30, step_seconds=300, until=backend.provider.now() - timedelta(minutes=30)
    )
    assert earlier.timestamps[-1] == pytest.approx(targets.timestamps[0] - 300)
    with pytest.raises(ApplicationNotFoundError):
        backend.provider.target_quality("no-such-application")


def test_costs_add_up(backend: Backend) -> None:
    report = backend.provider.costs("provider", days=7)
    assert sum(g.amount for g in report.groups) == pytest.approx(report.total, rel=1e-6)
    with pytest.raises(InvalidRequestError):
        backend.provider.costs("colour")


def test_costs_of_a_scope_are_that_scope_of_the_bill(backend: Backend) -> None:
    whole = backend.provider.costs("provider", days=7)
    cloud = backend.cloud.name
    own = next(g.amount for g in whole.groups if g.key == cloud)
    if backend.provider.name != "aws":  # moto's Cost Explorer answers what it was given, whatever the filter
        for group in whole.groups:
            scoped = backend.provider.costs(None, 7, InstanceFilter(provider=group.key))
            assert scoped.total == pytest.approx(group.amount, rel=1e-9)
        team = backend.provider.costs("tag:team", days=7).groups[0]
        by_tag = backend.provider.costs(None, 7, InstanceFilter(tags={"team": team.key}))
        assert by_tag.total == pytest.approx(team.amount, rel=1e-9)
        earlier = backend.provider.costs(None, 1, until=backend.provider.now() - timedelta(days=1))
        assert earlier.end == backend.provider.now() - timedelta(days=1) and earlier.total > 0
    assert backend.provider.costs(None, 7, InstanceFilter(provider=cloud)).total == pytest.approx(own)
    other = "gcp" if cloud != "gcp" else "aws"
    assert backend.provider.costs(None, 7, InstanceFilter(provider=other)).total >= 0
    with pytest.raises(InvalidRequestError, match="not by state"):
        backend.provider.costs(None, 7, InstanceFilter(state="running"))


def test_a_daily_breakdown_splits_each_group_by_day(backend: Backend) -> None:
    report = backend.provider.costs("tag:team", days=7, daily=True)
    assert report.days is not None and len(report.days) in (7, 8)  # a window that starts part-way into a day
    assert report.days == sorted(report.days) and report.days[-1] == backend.provider.now().date()
    for group in report.groups:
        assert group.daily is not None and len(group.daily) == len(report.days)
        assert sum(group.daily) == pytest.approx(group.amount, rel=1e-6)
    whole = backend.provider.costs(None, days=7, daily=True)
    assert [g.key for g in whole.groups] == ["total"] and whole.groups[0].daily is not None
    assert sum(whole.groups[0].daily) == pytest.approx(whole.total, rel=1e-6)
    if backend.provider.name != "aws":  # moto's Cost Explorer has no days of its own to compare with
        by_day = backend.provider.costs("day", days=7)
        assert {g.key: g.amount for g in by_day.groups} == pytest.approx(
            dict(zip((d.isoformat() for d in report.days), whole.groups[0].daily, strict=True))
        )
    assert all(g.daily is None for g in backend.provider.costs("tag:team", days=7).groups)  # if asked


def test_throttling_is_a_retryable_typed_error(backend: Backend) -> None:
    inst = running(backend.provider)
    backend.control.throttle("get_instance")
    with pytest.raises(ThrottledError) as caught:
        backend.provider.get_instance(inst.id)
    assert caught.value.retryable and caught.value.cloud_code == backend.cloud.throttle_code
    backend.control.clear_faults()
    assert backend.provider.get_instance(inst.id).id == inst.id
