"""The storage part of the contract, every adapter: volumes, snapshots and public addresses behave the same
whichever cloud is behind the provider — or, where an adapter does not read them yet, are refused with a
typed error that says so (never listed as none)."""

from __future__ import annotations

import pytest

from tests.tools.conftest import Backend
from tools.errors import (
    IncorrectStateError,
    InvalidRequestError,
    ResourceNotFoundError,
    UnsupportedOperationError,
)
from tools.models import FINAL_SNAPSHOT_TAG, ResourceFilter

pytestmark = pytest.mark.storage  # the AWS account is given the simulator's volumes, snapshots and addresses


def _reads_storage(backend: Backend) -> bool:
    if backend.cloud.name in ("azure", "gcp"):
        with pytest.raises(UnsupportedOperationError, match="not read from"):
            backend.provider.list_volumes()
        with pytest.raises(UnsupportedOperationError):
            backend.provider.list_addresses()
        return False
    return True


def test_volumes_are_listed_and_filtered(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    volumes = cloud.list_volumes(ResourceFilter(provider="aws"))
    assert volumes and all(v.provider == "aws" and v.monthly_price > 0 for v in volumes)
    available = cloud.list_volumes(ResourceFilter(provider="aws", state="available"))
    assert all(v.state == "available" and v.attached_to is None for v in available)
    in_use = [v for v in volumes if v.state == "in-use"]
    assert in_use and all(v.attached_to for v in in_use)
    team = next(v.tags["team"] for v in volumes if "team" in v.tags)  # (EC2's root volumes carry no tags)
    assert all(v.tags["team"] == team for v in cloud.list_volumes(ResourceFilter(tags={"team": team})))
    assert cloud.get_volume(volumes[0].id).id == volumes[0].id
    with pytest.raises(ResourceNotFoundError):
        cloud.get_volume("vol-0000000000000000")


def test_the_workloads_iops_are_read(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    # The data volumes the account was given (EC2's root volumes, untagged, have no statistics here).
    data = ResourceFilter(provider="aws", state="in-use", tags={"attached-as": "data"})
    in_use = [v for v in backend.provider.list_volumes(data) if v.volume_type in ("gp2", "io1")]
    assert in_use and all(v.iops_p99 is not None and v.iops_p99 > 0 for v in in_use)


def test_a_type_change_and_its_replay(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    data = ResourceFilter(provider="aws", tags={"attached-as": "data"})
    gp2 = next(v for v in cloud.list_volumes(data) if v.volume_type == "gp2")
    changed = cloud.modify_volume(gp2.id, "gp3", "retype-1")
    assert changed.volume_type == "gp3" and changed.monthly_price < gp2.monthly_price
    assert cloud.modify_volume(gp2.id, "gp3", "retype-1").volume_type == "gp3"  # a replay changes nothing
    assert changed.modifiable_at is not None and changed.modifiable_at > cloud.now()  # EBS: six hours apart


def test_an_attached_volume_is_not_deleted(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    attached = cloud.list_volumes(ResourceFilter(provider="aws", state="in-use"))[0]
    with pytest.raises(IncorrectStateError):
        cloud.delete_volume(attached.id, "delete-attached")
    assert cloud.get_volume(attached.id).state == "in-use"


def test_a_deleted_volume_is_made_again_from_its_final_snapshot(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    volume = cloud.list_volumes(ResourceFilter(provider="aws", state="available"))[0]
    deleted = cloud.delete_volume(volume.id, "delete-1")
    assert deleted.final_snapshot is not None and deleted.final_snapshot.tags[FINAL_SNAPSHOT_TAG] == volume.id
    with pytest.raises(ResourceNotFoundError):
        cloud.get_volume(volume.id)
    replay = cloud.delete_volume(volume.id, "delete-1")
    assert replay.final_snapshot is not None and replay.final_snapshot.id == deleted.final_snapshot.id
    again = cloud.restore_volume(deleted.final_snapshot.id, "restore-1", tags={"restores": volume.id})
    assert again.id != volume.id and again.state == "available" and again.size_gb == volume.size_gb
    assert again.volume_type == volume.volume_type and again.tags["restores"] == volume.id
    replay_of = cloud.restore_volume(deleted.final_snapshot.id, "restore-1", tags={"restores": volume.id})
    assert replay_of.id == again.id  # a replay makes no second volume


def test_a_deleted_snapshot_is_no_longer_listed(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    snapshots = cloud.list_snapshots(ResourceFilter(provider="aws"))
    assert snapshots and all(s.monthly_price > 0 and s.size_gb > 0 for s in snapshots)
    backups = [
        s for s in snapshots if s.image_id is None
    ]  # (moto's account has images; their snapshots stay)
    gone = backups[0]
    cloud.delete_snapshot(gone.id, "delete-snapshot-1")
    assert gone.id not in {s.id for s in cloud.list_snapshots(ResourceFilter(provider="aws"))}
    try:  # in the recycle bin (the simulator's account has a retention rule), or gone
        assert cloud.get_snapshot(gone.id).state == "recycle-bin"
    except ResourceNotFoundError:
        pass


def test_an_idle_address_is_released_and_had_back(backend: Backend) -> None:
    if not _reads_storage(backend):
        return
    cloud = backend.provider
    addresses = cloud.list_addresses(ResourceFilter(provider="aws"))
    used = next(a for a in addresses if a.state == "in-use")
    with pytest.raises(IncorrectStateError):
        cloud.release_address(used.id, "release-used")
    idle = next(a for a in addresses if a.state == "idle")
    assert cloud.release_address(idle.id, "release-1").state == "released"
    assert idle.public_ip not in {a.public_ip for a in cloud.list_addresses()}
    back = cloud.recover_address(idle.id, "recover-1", public_ip=idle.public_ip)
    assert back.public_ip == idle.public_ip and back.state == "idle"


@pytest.mark.parametrize("backend", ["aws"], indirect=True)
def test_the_aws_type_moves_are_the_simulators(backend: Backend) -> None:
    """The moto account holds the simulator's AWS volumes, their workloads published as EBS does: the
    adapter's advice (read through EC2 and CloudWatch) is the simulator's, volume for volume."""
    from mock_cloud import CloudSimulator
    from tests.tools.conftest import SEED
    from tools.adapters.simulator import SimulatorProvider
    from tools.analysis.ledger import read_ledger

    sim = CloudSimulator(seed=SEED, size=24, provider_mix={"aws": 1.0})  # the account's seed, as seeded
    running = {i.id for i in sim.list_instances(state="running")}

    def advice(cloud: object) -> list[tuple[object, ...]]:
        found = read_ledger(cloud, kinds=["volume_type"]).opportunities  # type: ignore[arg-type]
        return sorted((r.application, r.current, r.target, r.monthly_savings) for r in found)

    theirs = [
        a for a in advice(SimulatorProvider(sim))
        # Only volumes of running machines were given to the account.
        if any(v.attached_to in running for v in sim.list_volumes(tags={"application": str(a[0])}).items)
    ]  # fmt: skip
    assert theirs and advice(backend.provider) == theirs


def _reads_buckets(backend: Backend) -> bool:
    if backend.cloud.name in ("azure", "gcp"):
        with pytest.raises(UnsupportedOperationError, match="buckets are not read from"):
            backend.provider.list_buckets()
        return False
    return True


def test_buckets_are_listed_with_their_class_and_reads(backend: Backend) -> None:
    if not _reads_buckets(backend):
        return
    cloud = backend.provider
    buckets = cloud.list_buckets(ResourceFilter(provider="aws"))
    assert buckets and all(b.provider == "aws" and b.objects > 0 for b in buckets)
    assert {b.storage_class for b in buckets} >= {"STANDARD", "STANDARD_IA"}
    assert all(b.reads_gb_per_day is not None and b.reads_gb_per_day >= 0 for b in buckets)
    team = buckets[0].tags["team"]
    assert all(b.tags["team"] == team for b in cloud.list_buckets(ResourceFilter(tags={"team": team})))
    assert cloud.get_bucket(buckets[0].name).name == buckets[0].name
    with pytest.raises(ResourceNotFoundError):
        cloud.get_bucket("no-such-bucket-here")


def test_a_class_move_its_replay_and_what_is_refused(backend: Backend) -> None:
    if not _reads_buckets(backend):
        return
    cloud = backend.provider
    hot = next(b for b in cloud.list_buckets(ResourceFilter(provider="aws")) if b.storage_class == "STANDARD")
    moved = cloud.set_bucket_class(hot.name, "STANDARD_IA", "move-1")
    assert moved.storage_class == "STANDARD_IA" and moved.objects == hot.objects
    assert cloud.set_bucket_class(hot.name, "STANDARD_IA", "move-1").storage_class == "STANDARD_IA"
    with pytest.raises(InvalidRequestError):
        cloud.set_bucket_class(hot.name, "COOL", "move-2")
    cloud.set_bucket_class(hot.name, "GLACIER", "move-3")
    with pytest.raises(IncorrectStateError):  # archived objects are restored before they are copied
        cloud.set_bucket_class(hot.name, "STANDARD", "move-4")
    assert cloud.get_bucket(hot.name).storage_class == "GLACIER"
