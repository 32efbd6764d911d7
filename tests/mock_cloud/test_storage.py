"""Volumes, snapshots and public addresses: seeded, priced at list prices, billed, and changed only as the
clouds allow — checked through the simulator's REST API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from mock_cloud.workloads import DAY, HOUR


@pytest.fixture
def sim() -> CloudSimulator:
    return CloudSimulator(seed=42, size=300)


@pytest.fixture
def client(sim: CloudSimulator) -> TestClient:
    return TestClient(create_app(sim))


def _volumes(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    page = client.get("/volumes", params=params).json()
    assert page["total"] == len(page["volumes"])
    volumes: list[dict[str, Any]] = page["volumes"]
    return volumes


def _cost_of(client: TestClient, resource_id: str, days: float = 1) -> float:
    groups = client.get("/costs", params={"group_by": "instance", "days": days}).json()["groups"]
    return next((g["amount"] for g in groups if g["key"] == resource_id), 0.0)


def test_a_seeded_account_holds_what_a_three_year_old_one_does(client: TestClient) -> None:
    volumes = _volumes(client)
    available = [v for v in volumes if v["state"] == "available"]
    assert {v["provider"] for v in volumes} == {"aws", "azure", "gcp"}
    assert {v["volume_type"] for v in volumes if v["provider"] == "aws"} >= {"gp2", "gp3", "io1"}
    assert available and all(v["last_attached_at"] and not v["attached_to"] for v in available)
    snapshots = client.get("/snapshots").json()["snapshots"]
    assert any(not s["volume_exists"] for s in snapshots)  # of volumes long gone
    addresses = client.get("/addresses").json()["addresses"]
    idle = [a for a in addresses if a["state"] == "idle"]
    assert idle and all(a["idle_since"] for a in idle)
    # The same seed, the same account.
    again = TestClient(create_app(CloudSimulator(seed=42, size=300)))
    assert _volumes(again) == volumes


def test_the_bill_carries_every_resource_at_its_list_price(client: TestClient, sim: CloudSimulator) -> None:
    services = {g["key"] for g in client.get("/costs", params={"group_by": "service"}).json()["groups"]}
    # (Early deletion shows once a bucket leaves a class early: tests/graphs/test_storage_kinds.py.)
    assert services == {"compute", "storage", "snapshots", "ip-addresses", "object-storage", "data-retrieval"}
    gp2 = next(v for v in _volumes(client, provider="aws") if v["volume_type"] == "gp2")
    assert gp2["monthly_price"] == pytest.approx(gp2["size_gb"] * 0.10 * _aws_factor(gp2["region"]), rel=1e-4)
    assert _cost_of(client, gp2["id"]) == pytest.approx(gp2["monthly_price"] * 24 / 730, rel=1e-4)
    idle = client.get("/addresses", params={"state": "idle", "provider": "aws"}).json()["addresses"][0]
    assert _cost_of(client, idle["id"]) == pytest.approx(0.005 * 24)  # every public IPv4, since Feb 2024
    premium = next(v for v in _volumes(client, provider="azure") if v["volume_type"] == "Premium_LRS")
    assert premium["monthly_price"] > 0  # by its size tier (P10 for 100 GiB, …)


def _aws_factor(region: str) -> float:
    from mock_cloud.catalog.storage import region_factor

    return region_factor("aws", region)


def test_a_gp2_volume_becomes_gp3_online_once_in_six_hours(client: TestClient, sim: CloudSimulator) -> None:
    gp2 = next(v for v in _volumes(client, provider="aws", state="in-use") if v["volume_type"] == "gp2")
    done = client.post(
        f"/volumes/{gp2['id']}/modify", json={"volume_type": "gp3"}, headers={"Idempotency-Key": "k1"}
    )
    assert done.status_code == 200 and done.json()["volume_type"] == "gp3" and done.json()["iops"] == 3000
    assert done.json()["monthly_price"] < gp2["monthly_price"]  # 0.08 against 0.10 per GB-month
    again = client.post(
        f"/volumes/{gp2['id']}/modify", json={"volume_type": "gp3"}, headers={"Idempotency-Key": "k1"}
    )
    assert again.json() == done.json()  # a replay, not a second modification
    back = client.post(f"/volumes/{gp2['id']}/modify", json={"volume_type": "gp2"})
    assert back.status_code == 409 and back.json()["error"]["code"] == "IncorrectModificationState"
    assert client.get(f"/volumes/{gp2['id']}").json()["volume_type"] == "gp3"  # refused: nothing changed
    sim.advance(6 * HOUR)
    assert (
        client.post(f"/volumes/{gp2['id']}/modify", json={"volume_type": "gp2"}).json()["volume_type"]
        == "gp2"
    )
    # The bill follows the segments: 6 hours of gp3 between gp2.
    assert _cost_of(client, gp2["id"], days=0.25) == pytest.approx(
        done.json()["monthly_price"] * 6 / 730, rel=1e-4
    )


def test_type_changes_are_refused_where_the_cloud_refuses_them(client: TestClient) -> None:
    pd = _volumes(client, provider="gcp")[0]
    refused = client.post(f"/volumes/{pd['id']}/modify", json={"volume_type": "pd-standard"})
    assert refused.status_code == 422 and "snapshot" in refused.json()["error"]["message"]
    azure = [v for v in _volumes(client, provider="azure", state="in-use")]
    running = {
        i["id"]
        for i in client.get("/instances", params={"state": "running", "provider": "azure"}).json()[
            "instances"
        ]
    }
    disk = next(v for v in azure if v["attached_to"] in running)
    refused = client.post(f"/volumes/{disk['id']}/modify", json={"volume_type": "Standard_LRS"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "OperationNotAllowed"
    unknown = client.post(f"/volumes/{disk['id']}/modify", json={"volume_type": "gp3"})
    assert unknown.status_code == 422 and "Premium_LRS" in unknown.json()["error"]["message"]


def test_deleting_a_volume_keeps_a_final_snapshot_to_make_it_again_from(
    client: TestClient, sim: CloudSimulator
) -> None:
    attached = _volumes(client, state="in-use")[0]
    refused = client.post(f"/volumes/{attached['id']}/delete")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "VolumeInUse"
    volume = _volumes(client, state="available")[0]
    key = {"Idempotency-Key": "delete-1"}
    deleted = client.post(f"/volumes/{volume['id']}/delete", headers=key).json()
    final = deleted["final_snapshot"]
    assert final["volume_id"] == volume["id"] and final["tags"]["final-snapshot-of"] == volume["id"]
    assert client.post(f"/volumes/{volume['id']}/delete", headers=key).json() == deleted  # a replay
    assert client.get(f"/volumes/{volume['id']}").status_code == 404
    sim.advance(HOUR)
    assert _cost_of(client, volume["id"], days=1 / 24) == 0.0  # off the bill from its deletion
    restored = client.post(
        f"/snapshots/{final['id']}/restore-volume", headers={"Idempotency-Key": "r1"}
    ).json()
    assert restored["id"] != volume["id"] and restored["state"] == "available"
    assert (restored["volume_type"], restored["size_gb"]) == (volume["volume_type"], volume["size_gb"])
    assert restored["tags"]["application"] == volume["tags"]["application"]


def test_a_deleted_snapshot_waits_in_the_recycle_bin(client: TestClient, sim: CloudSimulator) -> None:
    snap = client.get("/snapshots", params={"limit": 1}).json()["snapshots"][0]
    gone = client.post(f"/snapshots/{snap['id']}/delete").json()
    assert gone["state"] == "recycle-bin" and gone["recoverable_until"]
    assert snap["id"] not in {s["id"] for s in client.get("/snapshots").json()["snapshots"]}
    in_bin = client.get("/snapshots", params={"recycle_bin": True}).json()["snapshots"]
    assert snap["id"] in {s["id"] for s in in_bin}
    assert client.post(f"/snapshots/{snap['id']}/recover").json()["state"] == "completed"
    client.post(f"/snapshots/{snap['id']}/delete")
    sim.advance(DAY)
    assert _cost_of(client, snap["id"], days=1) == pytest.approx(snap["monthly_price"] * 24 / 730, rel=1e-3)
    sim.advance(7 * DAY)
    assert client.post(f"/snapshots/{snap['id']}/recover").status_code == 404  # the bin was emptied
    assert _cost_of(client, snap["id"], days=1) == 0.0  # billed while in the bin, not after


def test_an_idle_address_is_released_and_can_be_had_back(client: TestClient, sim: CloudSimulator) -> None:
    used = client.get("/addresses", params={"state": "in-use"}).json()["addresses"][0]
    refused = client.post(f"/addresses/{used['id']}/release")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "InvalidIPAddress.InUse"
    idle = client.get("/addresses", params={"state": "idle"}).json()["addresses"][0]
    assert client.post(f"/addresses/{idle['id']}/release").json()["state"] == "released"
    sim.advance(DAY)
    assert _cost_of(client, idle["id"], days=1) == 0.0
    back = client.post(f"/addresses/{idle['id']}/recover").json()
    assert back["state"] == "idle" and back["public_ip"] == idle["public_ip"]
    sim.advance(DAY)
    # Billed again from the day it was had back, not for the day it was someone else's to take.
    assert _cost_of(client, idle["id"], days=2) == pytest.approx(idle["monthly_price"] * 24 / 730, rel=1e-3)


def test_a_machine_takes_its_volumes_along_and_leaves_them_when_terminated(sim: CloudSimulator) -> None:
    volume = next(
        v for v in sim.list_volumes(state="in-use").items
        if sim.get_instance(v.attached_to or "").state == "running" and v.provider == "aws"
    )  # fmt: skip
    assert volume.attached_to is not None
    moved = sim.migrate(volume.attached_to, "spot")
    sim.wait_until_stable(moved.replacement.id)
    sim.advance(60)
    assert sim.get_volume(volume.id).attached_to == moved.replacement.id
    sim.terminate(moved.replacement.id)
    sim.advance(60)
    left = sim.get_volume(volume.id)
    assert left.state == "available" and left.last_attached_at is not None


def test_bad_input_is_refused_with_the_clouds_codes(client: TestClient) -> None:
    assert client.get("/volumes/vol-0nope").json()["error"]["code"] == "InvalidVolume.NotFound"
    assert client.get("/snapshots/snap-0nope").status_code == 404
    assert client.get("/volumes", params={"state": "lost"}).status_code == 422
    assert (
        client.post("/volumes/vol-0nope/modify", json={"volume_type": "gp3", "extra": 1}).status_code == 422
    )
