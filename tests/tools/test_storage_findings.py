"""The storage findings against the seeded ground truth, read the way a sceptical user would: from the
simulator's own REST API, not from our analysis code."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import cloud_of
from tools.analysis.ledger import read_ledger
from tools.analysis.settings import StorageSettings
from tools.models import InstanceFilter

DAY = 86400.0
SETTINGS = StorageSettings()


@pytest.fixture(scope="module")
def sim() -> CloudSimulator:
    return CloudSimulator(42, 300)


@pytest.fixture(scope="module")
def rest(sim: CloudSimulator) -> TestClient:
    return TestClient(create_app(sim))


def _t(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _found(sim: CloudSimulator, kind: str, scope: InstanceFilter | None = None) -> dict[str, Any]:
    ledger = read_ledger(cloud_of(sim), scope, [kind])  # type: ignore[list-item]
    assert ledger.notes == []
    return {r.instance_id: r for r in ledger.opportunities}


def test_unattached_volumes_are_those_the_cloud_lists_as_available_for_a_week(
    sim: CloudSimulator, rest: TestClient
) -> None:
    now = sim.now()
    listed = rest.get("/volumes", params={"state": "available"}).json()["volumes"]
    truth = {v["id"]: v for v in listed if now - _t(v["last_attached_at"]) >= SETTINGS.unattached_days * DAY}
    found = _found(sim, "unattached_volume")
    assert truth and set(found) == set(truth)
    for vid, r in found.items():
        v = truth[vid]
        snapshot = v["size_gb"] * 0.05 * (v["monthly_price"] / _list_price(v))
        assert r.monthly_savings == pytest.approx(v["monthly_price"] - snapshot, abs=0.011)
        assert r.resource == "volume" and f"{v['monthly_price']:.2f} USD/month" in " ".join(r.reasons)


def _list_price(v: dict[str, Any]) -> float:
    """The volume's price in the reference region (the factor cancels out of the snapshot's estimate)."""
    from mock_cloud.catalog.storage import volume_type

    return volume_type(v["provider"], v["volume_type"]).month(
        v["size_gb"], v["provisioned_iops"], v["provisioned_throughput_mbps"]
    )


def test_old_snapshots_follow_the_retention_and_keep_the_newest(
    sim: CloudSimulator, rest: TestClient
) -> None:
    now = sim.now()
    snapshots = rest.get("/snapshots").json()["snapshots"]
    by_volume: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in snapshots:
        by_volume[s["volume_id"]].append(s)
    truth = set()
    for taken in by_volume.values():
        taken.sort(key=lambda s: -_t(s["created_at"]))
        for rank, s in enumerate(taken):
            old = now - _t(s["created_at"]) > SETTINGS.snapshot_retention_days * DAY
            if old and (not s["volume_exists"] or rank >= SETTINGS.keep_latest_snapshots):
                truth.add(s["id"])
    found = _found(sim, "old_snapshot")
    priced = {s["id"]: s["monthly_price"] for s in snapshots}
    cents = {sid for sid in truth if priced[sid] < SETTINGS.min_monthly_savings / 10}
    assert truth and set(found) == truth - cents
    assert sum(r.monthly_savings for r in found.values()) == pytest.approx(
        sum(priced[s] for s in found), abs=0.01 * len(found)
    )
    gone = [r for r in found.values() if "no longer exists" in r.reasons[1]]
    assert gone and all(r.risk in ("medium", "high") for r in gone)


def test_idle_addresses_are_those_idle_for_a_day(sim: CloudSimulator, rest: TestClient) -> None:
    now = sim.now()
    idle = rest.get("/addresses", params={"state": "idle"}).json()["addresses"]
    truth = {a["id"]: a for a in idle if now - _t(a["idle_since"]) >= DAY}
    found = _found(sim, "idle_address")
    assert truth and set(found) == set(truth)
    assert all(found[a].monthly_savings == pytest.approx(truth[a]["monthly_price"], abs=0.01) for a in found)


def test_a_type_move_keeps_the_workloads_p99_and_costs_less(sim: CloudSimulator, rest: TestClient) -> None:
    volumes = {
        v["id"]: v
        for v in rest.get("/volumes", params={"provider": "aws", "state": "in-use"}).json()["volumes"]
    }
    found = _found(sim, "volume_type")
    assert found and all(volumes[v]["volume_type"] in ("gp2", "io1") for v in found)
    from mock_cloud.catalog.storage import region_factor, volume_type
    from tools.analysis.storage import parse_volume_type

    gp3 = volume_type("aws", "gp3")
    for vid, r in found.items():
        v = volumes[vid]
        name, iops, mbps = parse_volume_type(r.target)
        delivered = gp3.performance(v["size_gb"], iops or 0.0, mbps or 0.0)
        assert (
            name == "gp3"
            and delivered[0] >= v["iops_p99"] * 1.2
            and delivered[1] >= v["throughput_p99_mbps"] * 1.2
        )
        price = gp3.month(v["size_gb"], iops or 0.0, mbps or 0.0, region_factor("aws", v["region"]))
        assert r.monthly_savings == pytest.approx(v["monthly_price"] - price, abs=0.011)
    # Every gp2 volume that gp3's own 3,000 IOPS and 125 MB/s carry is advised: gp3 is cheaper per GB.
    plain = [v for v in volumes.values() if v["volume_type"] == "gp2" and v["iops_p99"] * 1.2 <= 3000
             and v["throughput_p99_mbps"] * 1.2 <= 125]  # fmt: skip
    assert plain and {v["id"] for v in plain} <= set(found)


def test_storage_findings_are_in_the_one_ledger_by_scope(sim: CloudSimulator, rest: TestClient) -> None:
    everything = read_ledger(cloud_of(sim))
    kinds = {r.kind for r in everything.opportunities}
    assert {"unattached_volume", "volume_type", "old_snapshot", "idle_address"} <= kinds
    ids = [r.instance_id for r in everything.opportunities]
    assert len(ids) == len(set(ids))  # one opportunity per resource
    team = InstanceFilter(tags={"team": "data"})
    scoped = read_ledger(cloud_of(sim), team, ["unattached_volume", "old_snapshot"])
    listed = rest.get("/snapshots", params={"tag": "team=data"}).json()["snapshots"]
    assert scoped.snapshots_analysed == len(listed)
    assert all(
        r.instance_id in {s["id"] for s in listed} for r in scoped.opportunities if r.kind == "old_snapshot"
    )
    # A scope by pricing model is about machines: no volume is in it.
    spot = read_ledger(cloud_of(sim), InstanceFilter(pricing_model="spot"), ["unattached_volume"])
    assert spot.volumes_analysed == 0 and spot.opportunities == []
