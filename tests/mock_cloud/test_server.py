"""The simulator's REST API, through FastAPI's test client (the real app, in-process)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import serve_simulator


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(CloudSimulator(seed=42, size=200)))


def running(client: TestClient, **params: str) -> dict[str, object]:
    page = client.get("/instances", params={"state": "running", **params}).json()
    assert page["instances"], params
    instance: dict[str, object] = page["instances"][0]
    return instance


def test_list_filters_and_pages(client: TestClient) -> None:
    everything = client.get("/instances").json()
    assert everything["total"] == 200
    page = client.get("/instances", params={"provider": "aws", "limit": 5, "offset": 5}).json()
    assert len(page["instances"]) == 5 and all(i["provider"] == "aws" for i in page["instances"])
    team = everything["instances"][0]["tags"]["team"]
    tagged = client.get("/instances", params={"tag": [f"team={team}", "environment=production"]}).json()
    assert all(
        i["tags"]["team"] == team and i["tags"]["environment"] == "production" for i in tagged["instances"]
    )
    spot = client.get("/instances", params={"pricing_model": "spot"}).json()["instances"]
    assert spot and all(i["pricing_model"] == "spot" for i in spot)


def test_lifecycle_over_http(client: TestClient) -> None:
    inst = running(client, provider="aws", pricing_model="on-demand")
    iid = inst["id"]
    refused = client.post(f"/instances/{iid}/resize", json={"instance_type": "m5.large"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "IncorrectInstanceState"
    assert client.post(f"/instances/{iid}/stop").json()["state"] == "stopping"
    client.post("/clock/advance", json={"seconds": 60})
    assert client.get(f"/instances/{iid}").json()["state"] == "stopped"
    resized = client.post(f"/instances/{iid}/resize", json={"instance_type": "m5.large"})
    assert resized.status_code == 200 and resized.json()["instance_type"] == "m5.large"
    assert client.post(f"/instances/{iid}/start").json()["state"] == "pending"
    unknown = client.post(f"/instances/{iid}/resize", json={"instance_type": "m5.colossal"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "InvalidInstanceType"


def test_migration_with_an_idempotency_key(client: TestClient) -> None:
    inst = running(client, pricing_model="on-demand", tag="stateful=false")
    headers = {"Idempotency-Key": "wf-7/wave-1"}
    first = client.post(f"/instances/{inst['id']}/migrate", json={"pricing_model": "spot"}, headers=headers)
    again = client.post(f"/instances/{inst['id']}/migrate", json={"pricing_model": "spot"}, headers=headers)
    assert first.status_code == again.status_code == 200
    replacement = first.json()["replacement"]
    assert again.json()["replacement"]["id"] == replacement["id"]
    assert replacement["tags"]["replaces"] == inst["id"] and replacement["pricing_model"] == "spot"
    other = client.post(f"/instances/{inst['id']}/stop", headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "IdempotentParameterMismatch"


def test_observations(client: TestClient) -> None:
    inst = running(client)
    metrics = client.get(f"/instances/{inst['id']}/metrics", params={"hours": 48}).json()
    assert len(metrics["timestamps"]) == len(metrics["cpu_pct"]) == len(metrics["memory_pct"])
    assert all(0 <= v <= 100 for v in metrics["cpu_pct"])
    quality = client.get(f"/applications/{inst['application']}/quality", params={"minutes": 30}).json()
    assert len(quality["p95_latency_ms"]) == 6 and quality["desired_replicas"] >= 1
    apps = client.get("/applications").json()
    assert any(a["name"] == inst["application"] and inst["id"] in a["instance_ids"] for a in apps)
    hourly = client.get(f"/instances/{inst['id']}/costs", params={"hours": 3}).json()
    assert len(hourly) == 3 and all(p["amount"] > 0 for p in hourly)


def test_utilisation_summary_for_the_whole_fleet(client: TestClient) -> None:
    summary = client.get("/metrics/summary", params={"hours": 168, "percentile": [50, 95]}).json()
    assert summary["percentiles"] == [50, 95] and len(summary["instance_ids"]) == 200
    p50, p95 = summary["cpu_pct"]
    assert all(lo <= hi for lo, hi in zip(p50, p95, strict=True) if lo is not None)
    assert len(summary["network_mean_mbps"]) == len(summary["observed_hours"]) == 200
    bad = client.get("/metrics/summary", params={"percentile": 101})
    assert bad.status_code == 422


def test_catalog_and_spot_prices(client: TestClient) -> None:
    gpus = client.get("/catalog", params={"provider": "aws", "gpu": True}).json()
    assert gpus and all(o["gpu_count"] > 0 for o in gpus)
    m5 = next(o for o in client.get("/catalog", params={"provider": "aws"}).json() if o["name"] == "m5.large")
    assert m5["on_demand_hourly"] == 0.096 and m5["region"] == "us-east-1"
    prices = client.get(
        "/spot-prices",
        params={"provider": "aws", "region": "us-east-1", "instance_type": "m5.large", "hours": 6},
    ).json()
    assert len(prices) == 6


def test_costs_group_and_add_up(client: TestClient) -> None:
    for group_by in ("provider", "service", "day", "tag:environment"):
        report = client.get("/costs", params={"group_by": group_by, "days": 7}).json()
        assert sum(g["amount"] for g in report["groups"]) == pytest.approx(report["total"], abs=1e-3)


def test_faults_over_http(client: TestClient) -> None:
    inst = running(client)
    assert client.post("/faults", json={"rules": {"get_instance": {"throttle_rate": 1.0}}}).status_code == 200
    throttled = client.get(f"/instances/{inst['id']}")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"] == {
        "code": "RequestLimitExceeded",
        "message": "Request limit exceeded for get_instance; retry with backoff",
        "retryable": True,
    }
    assert client.get("/faults").json()["rules"]["get_instance"]["throttle_rate"] == 1.0
    client.delete("/faults")
    assert client.get(f"/instances/{inst['id']}").status_code == 200
    bad = client.post("/faults", json={"rules": {"reboot": {"error_rate": 0.5}}})
    assert bad.status_code == 422 and "reboot" in bad.json()["error"]["message"]


def test_spot_interruption_and_events(client: TestClient) -> None:
    spot = running(client, pricing_model="spot", provider="aws")
    noticed = client.post(f"/instances/{spot['id']}/interrupt").json()
    assert noticed["interruption_notice_at"] is not None
    client.post("/clock/advance", json={"seconds": 121})
    assert client.get(f"/instances/{spot['id']}").json()["state"] == "terminated"
    kinds = [e["kind"] for e in client.get("/events").json() if e["instance_id"] == spot["id"]]
    assert kinds == ["spot_interruption_notice", "spot_interrupted"]


def test_reset_builds_a_new_fleet(client: TestClient) -> None:
    reset = client.post("/reset", json={"seed": 3, "size": 25}).json()
    assert reset["size"] == 25 and reset["now"] == "2026-06-17T06:00:00Z"
    assert client.get("/instances").json()["total"] == 25


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/instances/i-0nope", {}, 404, "InvalidInstanceID.NotFound"),
        ("post", "/instances/i-0nope/stop", {}, 404, "InvalidInstanceID.NotFound"),
        ("get", "/applications/nope/quality", {}, 404, "ApplicationNotFound"),
        ("get", "/instances", {"params": {"provider": "oracle"}}, 422, "InvalidParameterValue"),
        ("get", "/instances", {"params": {"state": "sleeping"}}, 422, "InvalidParameterValue"),
        ("get", "/instances", {"params": {"tag": "novalue"}}, 422, "InvalidParameterValue"),
        ("get", "/instances", {"params": {"limit": 0}}, 422, "InvalidParameterValue"),
        ("post", "/reset", {"json": {"seed": 1, "size": -5}}, 422, "InvalidParameterValue"),
        ("post", "/reset", {"json": {"seed": 1, "size": 10**9}}, 422, "InvalidParameterValue"),
        ("post", "/clock/advance", {"json": {"seconds": -1}}, 422, "InvalidParameterValue"),
        ("post", "/clock/advance", {"content": b"{not json", "headers": {"content-type": "application/json"}},
         422, "InvalidParameterValue"),
        ("get", "/costs", {"params": {"group_by": "colour"}}, 422, "InvalidParameterValue"),
        ("get", "/catalog", {"params": {"provider": "aws", "region": "moon"}}, 422, "InvalidParameterValue"),
        ("get", "/catalog", {"params": {"region": "us-east-1"}}, 422, "InvalidParameterValue"),
        ("get", "/spot-prices", {"params": {"provider": "aws", "region": "us-east-1", "instance_type": "zz"}},
         422, "InvalidInstanceType"),
        ("delete", "/instances", {}, 405, "MethodNotAllowed"),
        ("get", "/nowhere", {}, 404, "NotFound"),
    ],
)  # fmt: skip
def test_bad_requests_get_a_useful_4xx(
    client: TestClient, method: str, path: str, kwargs: dict[str, object], status: int, code: str
) -> None:
    response = client.request(method.upper(), path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_bad_bodies_on_every_mutation_never_give_a_5xx(client: TestClient) -> None:
    inst = running(client)
    bodies: list[object] = [
        None,
        [],
        "x",
        {"instance_type": ""},
        {"pricing_model": "free"},
        {"seconds": "soon"},
    ]
    for path in ("resize", "migrate"):
        for body in bodies:
            response = client.post(f"/instances/{inst['id']}/{path}", json=body)
            assert 400 <= response.status_code < 500, (path, body, response.text)


def test_openapi_documents_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/instances", "/instances/{instance_id}/resize", "/instances/{instance_id}/migrate",
                 "/instances/{instance_id}/metrics", "/applications/{name}/quality", "/catalog", "/costs",
                 "/faults", "/clock/advance", "/reset"):  # fmt: skip
        assert path in paths


def test_a_slow_answer_arrives_after_the_client_gave_up_but_the_change_was_made() -> None:
    with serve_simulator(seed=42, size=60) as url:
        api = httpx.Client(base_url=url, timeout=5)
        rule = {"slow_answer_rate": 1.0, "slow_answer_seconds": 1.0}
        api.post("/faults", json={"rules": {"stop": rule}}).raise_for_status()
        instance = api.get("/instances", params={"state": "running"}).json()["instances"][0]
        stop = f"/instances/{instance['id']}/stop"
        with pytest.raises(httpx.ReadTimeout):
            api.post(stop, headers={"Idempotency-Key": "k-1"}, timeout=0.2)
        assert api.get(f"/instances/{instance['id']}").json()["state"] in ("stopping", "stopped")
        retried = api.post(stop, headers={"Idempotency-Key": "k-1"})  # the first call's result, no new change
        assert retried.status_code == 200 and retried.json()["id"] == instance["id"]
