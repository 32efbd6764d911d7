"""The simulator's cloud dialects refuse what the clouds refuse, in the clouds' own error shapes: the SDK
tests show the happy paths and the faults; these show that a careless client is not let through."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.arm import resource_group
from mock_cloud.gce import zone_of
from mock_cloud.server import create_app

SUB = "6f1f4b0e-2b3c-4d5e-8f90-123456789abc"
AUTH = {"Authorization": "Bearer simulated"}
VERSION = {"api-version": "2024-07-01"}


def _client() -> tuple[TestClient, CloudSimulator]:
    sim = CloudSimulator(seed=42, size=150)
    return TestClient(create_app(sim)), sim


def test_resource_manager_wants_a_version_a_token_and_a_whole_vm() -> None:
    client, sim = _client()
    vm = next(
        v for v in sim.list_instances(provider="azure", state="running") if v.pricing_model == "on-demand"
    )
    group = f"/subscriptions/{SUB}/resourceGroups/{resource_group(vm)}"
    path = f"{group}/providers/Microsoft.Compute/virtualMachines"
    missing = client.get(f"{path}/{vm.id}", headers=AUTH)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"
    anonymous = client.get(f"{path}/{vm.id}", params=VERSION)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "AuthenticationFailed"
    found = client.get(f"{path}/{vm.id}", params=VERSION, headers=AUTH).json()
    assert found["properties"]["storageProfile"]["imageReference"]["offer"] == "0001-com-ubuntu-server-jammy"
    bare = {
        "location": vm.region,
        "tags": {**vm.tags, "replaces": vm.id},
        "properties": {"hardwareProfile": {"vmSize": vm.instance_type}, "priority": "Spot"},
    }
    refused = client.put(f"{path}/{vm.id}-copy", params=VERSION, headers=AUTH, json=bare)
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "InvalidParameter",
        "message": refused.json()["error"]["message"],
        "target": "storageProfile.imageReference",
    }
    gone = client.get(f"{path}/no-such-vm", params=VERSION, headers=AUTH)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert not [e for e in sim.events() if e.kind == "launched"]


def test_compute_engine_wants_a_whole_instance_and_sane_pages() -> None:
    client, sim = _client()
    vm = next(
        v for v in sim.list_instances(provider="gcp", state="running") if v.pricing_model == "on-demand"
    )
    zone = f"/compute/v1/projects/acme-optiinfra-1/zones/{zone_of(vm)}"
    bare = {
        "name": f"{vm.id}-copy",
        "machineType": f"zones/{zone_of(vm)}/machineTypes/{vm.instance_type}",
        "labels": {**vm.tags, "replaces": vm.id},
        "scheduling": {"provisioningModel": "SPOT"},
    }
    refused = client.post(f"{zone}/instances", json=bare)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (
        error["code"] == 400 and error["errors"][0]["reason"] == "invalid" and "boot disk" in error["message"]
    )
    page = client.get("/compute/v1/projects/acme-optiinfra-1/aggregated/instances", params={"maxResults": 0})
    assert page.status_code == 400 and page.json()["error"]["errors"][0]["reason"] == "invalid"
    token = client.get(f"{zone}/instances", params={"pageToken": "not-a-token"})
    assert token.status_code == 400
    assert (
        client.get(f"{zone}/instances/no-such-instance").json()["error"]["errors"][0]["reason"] == "notFound"
    )
    assert not [e for e in sim.events() if e.kind == "launched"]


def test_answers_are_dated_by_the_simulated_clock() -> None:
    client, sim = _client()
    sim.advance(3600)
    assert client.get("/healthz").headers["Date"] == "Wed, 17 Jun 2026 07:00:00 GMT"
