"""A cloud that does not answer: the service says so (503 with a problem body, never a 500), and a workflow
accepted meanwhile ends `failed` with the reason in its status, its events and its audit; retried once the
cloud is back, it carries on."""

from __future__ import annotations

from tests.api.test_service import open_service
from tests.conftest import free_port


async def test_an_unreachable_cloud_is_a_503_and_a_failed_workflow_with_its_reason() -> None:
    async with open_service(cloud=f"http://127.0.0.1:{free_port()}") as service:
        listed = await service.client.get("/api/v1/instances", headers=service.as_("viewer"))
        assert listed.status_code == 503 and listed.headers["content-type"] == "application/problem+json"
        assert (
            listed.json()["detail"].startswith("the cloud did not answer") and "Retry-After" in listed.headers
        )

        started = await service.client.post(
            "/api/v1/workflows", json={"kind": "rightsizing"}, headers=service.as_("operator")
        )
        assert started.status_code == 202
        workflow_id = started.json()["workflow_id"]
        done = await service.settled(workflow_id)
        assert done["status"] == "failed"
        events = await service.client.get(
            f"/api/v1/workflows/{workflow_id}/events", headers=service.as_("viewer")
        )
        assert "event: failed" in events.text and "ProviderUnavailableError" in events.text  # it ended
        audit = await service.client.get(
            f"/api/v1/workflows/{workflow_id}/audit", headers=service.as_("viewer")
        )
        reasons = [e["detail"]["reason"] for e in audit.json() if e["detail"].get("status") == "failed"]
        assert reasons and "Unavailable" in reasons[0]
        again = await service.client.post(
            f"/api/v1/workflows/{workflow_id}/resume", headers=service.as_("operator")
        )
        assert again.status_code == 202  # retried; the cloud is still away, so it fails again, and says so
        assert (await service.settled(workflow_id))["status"] == "failed"
