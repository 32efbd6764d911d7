"""The HTTP service as its clients use it: roles on every route, errors as problem+json, workflows run in
the background and followed by Server-Sent Events, decisions recorded with the key's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from api.service.app import create_app
from api.service.keys import ROLES, create_key
from api.service.settings import ServiceSettings
from graphs.rollout.authority import Role
from graphs.service_store import ServiceStore
from mock_cloud import CloudSimulator
from tools.provider import CloudProvider

PROBLEM = "application/problem+json"


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    keys: dict[Role, str]

    def as_(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def settled(self, workflow_id: str) -> dict[str, object]:
        await self.app.state.runner.wait(workflow_id)
        found = await self.client.get(f"/api/v1/workflows/{workflow_id}", headers=self.as_("viewer"))
        assert found.status_code == 200
        body: dict[str, object] = found.json()
        return body


@asynccontextmanager
async def open_service(provider: CloudProvider | None = None, **settings: object) -> AsyncIterator[Service]:
    """The service in this process, with a key per role; `provider` instead of its seeded simulator."""
    configured = ServiceSettings(**{"db": "memory", "size": 200, **settings})  # type: ignore[arg-type]
    app = create_app(configured, cloud=provider, sweep=False)
    async with app.router.lifespan_context(app):
        db = app.state.rollouts.db
        keys = {role: await create_key(db, f"{role}-key", role) for role in ROLES}
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield Service(app, client, keys)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    async with open_service() as opened:
        yield opened


# Every route, and the permission it needs (None: open to anyone).
ROUTES: list[tuple[str, str, dict[str, object] | None, str | None]] = [
    ("GET", "/healthz", None, None),
    ("GET", "/metrics", None, None),
    ("GET", "/api/v1/instances", None, "read"),
    ("GET", "/api/v1/volumes?state=available", None, "read"),
    ("GET", "/api/v1/snapshots?limit=1", None, "read"),
    ("GET", "/api/v1/addresses?state=idle", None, "read"),
    ("GET", "/api/v1/buckets?provider=aws", None, "read"),
    ("GET", "/api/v1/costs", None, "read"),
    ("GET", "/api/v1/recommendations?kind=idle&limit=1", None, "read"),
    ("GET", "/api/v1/workflows", None, "read"),
    ("GET", "/api/v1/workflows/wf-none", None, "read"),
    ("GET", "/api/v1/workflows/wf-none/audit", None, "read"),
    ("GET", "/api/v1/workflows/wf-none/savings", None, "read"),
    ("GET", "/api/v1/workflows/wf-none/events", None, "read"),
    ("POST", "/api/v1/chat", {"message": "hello"}, "read"),
    ("POST", "/api/v1/workflows", {"kind": "rightsizing", "scope": {"region": "nowhere-1"}}, "start"),
    ("POST", "/api/v1/workflows/wf-none/decision", {"decision": "approve"}, "decide"),
    ("GET", "/api/v1/anomalies", None, "read"),
    ("GET", "/api/v1/anomalies/none@2026-06-01", None, "read"),
    ("POST", "/api/v1/anomalies/check?days=1", None, "manage"),
    ("PATCH", "/api/v1/anomalies/none@2026-06-01", {"status": "resolved"}, "manage"),
    ("GET", "/api/v1/budgets", None, "read"),
    ("GET", "/api/v1/budgets/none", None, "read"),
    ("DELETE", "/api/v1/budgets/none", None, "manage"),
    ("GET", "/api/v1/notifications", None, "read"),
    ("GET", "/api/v1/notifications/deliveries", None, "read"),
    ("GET", "/api/v1/notifications/none", None, "read"),
    ("POST", "/api/v1/notifications/none/test", None, "manage"),
    ("DELETE", "/api/v1/notifications/none", None, "manage"),
]  # fmt: skip
# Roles are cumulative: each may do what the one below it may, and more.
GRANTED = {"viewer": {"read"}, "operator": {"read", "start", "manage"},
           "approver": {"read", "start", "manage", "decide"},
           "admin": {"read", "start", "manage", "decide"}}  # fmt: skip


async def test_every_role_on_every_route(service: Service) -> None:
    for method, path, body, needs in ROUTES:
        anonymous = await service.client.request(method, path, json=body)
        assert anonymous.status_code == (200 if needs is None else 401), (method, path)
        if needs is None:
            continue
        assert anonymous.headers["content-type"] == PROBLEM
        assert anonymous.headers["www-authenticate"] == "Bearer"
        for role in ROLES:
            answer = await service.client.request(method, path, json=body, headers=service.as_(role))
            if needs in GRANTED[role]:
                assert answer.status_code in (200, 202, 404), (role, method, path, answer.text)
            else:
                assert answer.status_code == 403, (role, method, path)
                assert f"the {role} role may not" in answer.json()["detail"]


async def test_unknown_and_revoked_keys_are_refused(service: Service) -> None:
    wrong = await service.client.get("/api/v1/instances", headers={"Authorization": "Bearer oik_not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown or revoked API key"
    assert await ServiceStore(service.app.state.rollouts.db).revoke_key("viewer-key")
    revoked = await service.client.get("/api/v1/instances", headers=service.as_("viewer"))
    assert revoked.status_code == 401


async def test_a_revoked_key_stops_working_within_the_trust_window(service: Service) -> None:
    now = [1000.0]
    guard = service.app.state.guard
    guard.clock = lambda: now[0]
    assert guard.trust_seconds == 5.0
    as_operator = service.as_("operator")
    assert (await service.client.get("/api/v1/instances", headers=as_operator)).status_code == 200
    assert await ServiceStore(service.app.state.rollouts.db).revoke_key("operator-key")
    now[0] += 4.9  # this replica checked the key 4.9 s ago: it still trusts it
    assert (await service.client.get("/api/v1/instances", headers=as_operator)).status_code == 200
    now[0] += 0.2
    refused = await service.client.get("/api/v1/instances", headers=as_operator)
    assert refused.status_code == 401 and refused.json()["detail"] == "unknown or revoked API key"


async def test_a_workflow_runs_in_the_background_waits_for_a_person_and_records_who_decided(
    service: Service,
) -> None:
    started = await service.client.post(
        "/api/v1/workflows",
        json={"kind": "spot_migration", "scope": {"provider": "aws"}},
        headers=service.as_("operator"),
    )
    assert started.status_code == 202 and started.json()["status"] == "planning"
    workflow_id = started.json()["workflow_id"]
    waiting = await service.settled(workflow_id)
    assert waiting["status"] == "awaiting_approval" and waiting["requested_by"] == "operator-key"
    pending = waiting["pending"]
    assert isinstance(pending, dict) and pending["instance_ids"]
    chosen = pending["instance_ids"][:2]

    decided = await service.client.post(
        f"/api/v1/workflows/{workflow_id}/decision",
        json={"decision": "approve", "instance_ids": chosen, "comment": "two first"},
        headers=service.as_("approver"),
    )
    assert decided.status_code == 202
    done = await service.settled(workflow_id)
    assert done["status"] == "completed"
    waves = done["waves"]
    assert isinstance(waves, list) and [w["number"] for w in waves] == list(range(1, len(waves) + 1))
    assert sum(w["instances"] for w in waves) == 2 and not any(w["degraded"] for w in waves)
    report = done["report"]
    assert isinstance(report, dict) and sorted(report["approved"]) == sorted(chosen)
    audit = await service.client.get(f"/api/v1/workflows/{workflow_id}/audit", headers=service.as_("viewer"))
    decisions = [e for e in audit.json() if e["kind"] == "decision"]
    assert [(d["actor"], d["detail"]["comment"]) for d in decisions] == [("approver-key", "two first")]

    again = await service.client.post(
        f"/api/v1/workflows/{workflow_id}/decision",
        json={"decision": "reject"},
        headers=service.as_("approver"),
    )
    assert (
        again.status_code == 409 and "was decided already: approve by approver-key" in again.json()["detail"]
    )


async def test_events_arrive_in_order_from_plan_to_report(service: Service) -> None:
    started = await service.client.post(
        "/api/v1/workflows",
        json={"kind": "spot_migration", "scope": {"provider": "gcp"}, "auto_approve": True},
        headers=service.as_("admin"),
    )
    workflow_id = started.json()["workflow_id"]
    await service.settled(workflow_id)
    stream = await service.client.get(
        f"/api/v1/workflows/{workflow_id}/events", headers=service.as_("viewer")
    )
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in stream.text.split("\n\n") if b.strip()]
    ids = [int(b.split("\n")[0].removeprefix("id: ")) for b in blocks]
    names = [b.split("\n")[1].removeprefix("event: ") for b in blocks]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert names[0] == "planned" and names[-2:] == ["report", "status"]
    assert (
        names.index("decision") < names.index("wave_started") < names.index("monitor") < names.index("report")
    )
    waves = [b for b, n in zip(blocks, names, strict=True) if n == "wave_started"]
    assert [w.split('"number": ')[1].split(",")[0] for w in waves] == ["1", "2", "3"]
    # Resuming after an event id gives only what came after it.
    later = await service.client.get(
        f"/api/v1/workflows/{workflow_id}/events",
        headers={**service.as_("viewer"), "Last-Event-ID": str(ids[-3])},
    )
    assert [b.split("\n")[1] for b in later.text.split("\n\n") if b.strip()] == [
        "event: report",
        "event: status",
    ]


async def test_bad_requests_are_problems_and_change_nothing(service: Service) -> None:
    admin = service.as_("admin")
    malformed = await service.client.post(
        "/api/v1/chat", content=b'{"message": ', headers={**admin, "content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.headers["content-type"] == PROBLEM
    assert malformed.json()["detail"].startswith("malformed JSON")
    huge = await service.client.post("/api/v1/chat", json={"message": "x" * 70_000}, headers=admin)
    assert huge.status_code == 413
    for body in (
        {"kind": "teleport"},
        {"kind": "rightsizing", "waves": [0.5, 0.2]},
        {"kind": "rightsizing", "x": 1},
    ):
        refused = await service.client.post("/api/v1/workflows", json=body, headers=admin)
        assert refused.status_code == 422, body
        assert set(refused.json()) == {"type", "title", "status", "detail"}
    missing = await service.client.get("/api/v1/workflows/wf-nope", headers=admin)
    assert missing.status_code == 404 and "wf-nope" in missing.json()["detail"]
    assert (await service.client.get("/api/v1/workflows", headers=admin)).json() == []


async def test_chat_over_http_keeps_its_thread(service: Service) -> None:
    first = await service.client.post(
        "/api/v1/chat",
        json={"message": "which instances could run on spot?"},
        headers=service.as_("operator"),
    )
    assert first.status_code == 200
    body = first.json()
    assert (
        set(body) >= {"thread_id", "route", "reply", "data", "pending_approval"}
        and body["route"] == "resource"
    )
    second = await service.client.post(
        "/api/v1/chat",
        json={"thread_id": body["thread_id"], "message": "move them to spot"},
        headers=service.as_("operator"),
    )
    assert second.json()["route"] == "spot_migration" and second.json()["pending_approval"] is not None
    metrics = (await service.client.get("/metrics")).text
    assert 'optiinfra_chat_routes_total{route="resource",source="embedded"} 1.0' in metrics


async def test_a_requester_may_not_approve_their_own_workflow_when_the_rule_is_on() -> None:
    async with open_service(distinct_approver=True) as service:
        started = await service.client.post(
            "/api/v1/workflows",
            json={"kind": "spot_migration", "scope": {"provider": "aws"}},
            headers=service.as_("admin"),
        )
        workflow_id = started.json()["workflow_id"]
        await service.settled(workflow_id)
        own = await service.client.post(
            f"/api/v1/workflows/{workflow_id}/decision",
            json={"decision": "approve"},
            headers=service.as_("admin"),
        )
        assert own.status_code == 403 and "requester may not approve" in own.json()["detail"]
        other = await service.client.post(
            f"/api/v1/workflows/{workflow_id}/decision",
            json={"decision": "approve"},
            headers=service.as_("approver"),
        )
        assert other.status_code == 202


async def test_each_key_has_its_rate_limit() -> None:
    async with open_service(rate_per_minute=3) as service:
        statuses = [(await service.client.get("/api/v1/workflows", headers=service.as_("viewer"))).status_code
                    for _ in range(4)]  # fmt: skip
        assert statuses == [200, 200, 200, 429]
        limited = await service.client.get("/api/v1/workflows", headers=service.as_("viewer"))
        assert int(limited.headers["retry-after"]) >= 1
        assert (
            await service.client.get("/api/v1/workflows", headers=service.as_("admin"))
        ).status_code == 200


async def test_volumes_snapshots_and_addresses_are_the_clouds(service: Service) -> None:
    sim = CloudSimulator(7, 200)  # the service's own seeded simulator, as it starts
    viewer = service.as_("viewer")
    page = (await service.client.get("/api/v1/volumes?state=available&limit=5", headers=viewer)).json()
    listed = sim.list_volumes(state="available").items
    assert page["total"] == len(listed) and [v["id"] for v in page["items"]] == [v.id for v in listed[:5]]
    team = listed[0].tags["team"]
    scoped = (await service.client.get(f"/api/v1/snapshots?tag=team={team}&limit=1", headers=viewer)).json()
    assert scoped["total"] == sim.list_snapshots(tags={"team": team}).total
    idle = (await service.client.get("/api/v1/addresses?state=idle", headers=viewer)).json()
    assert idle["total"] == sim.list_addresses(state="idle").total and all(
        a["state"] == "idle" for a in idle["items"]
    )
    bad = await service.client.get("/api/v1/volumes?state=lost", headers=viewer)
    assert bad.status_code == 422 and "state" in bad.text
    buckets = (await service.client.get("/api/v1/buckets?provider=gcp", headers=viewer)).json()
    own = sim.list_buckets(provider="gcp").items
    assert buckets["total"] == len(own) and {b["storage_class"] for b in buckets["items"]} == {
        b.storage_class for b in own[:100]
    }


async def test_health_readiness_and_metrics_are_open(service: Service) -> None:
    assert (await service.client.get("/healthz")).json() == {"status": "ok"}
    assert (await service.client.get("/readyz")).json() == {"status": "ready"}
    await service.client.get("/api/v1/instances", headers=service.as_("viewer"))
    metrics = (await service.client.get("/metrics")).text
    assert 'optiinfra_http_requests_total{method="GET",route="/api/v1/instances",status="200"} 1.0' in metrics
    assert 'optiinfra_cloud_calls_total{operation="page_instances"}' in metrics


async def test_a_rollout_started_and_approved_in_chat_is_leased_and_completes(service: Service) -> None:
    approver = service.as_("approver")
    started = await service.client.post(
        "/api/v1/chat",
        json={"thread_id": "ops", "message": "move the staging instances to spot"},
        headers=approver,
    )
    pending = started.json()["pending_approval"]
    assert pending is not None
    approved = await service.client.post(
        "/api/v1/chat", json={"thread_id": "ops", "message": "approve"}, headers=approver
    )
    assert "completed" in approved.json()["reply"]
    # The turn let go of the workflow's lease: anyone may take it now.
    leases = ServiceStore(service.app.state.rollouts.db)
    assert await leases.acquire_lease(pending["workflow_id"], "someone-else", 5)


async def test_a_schedules_savings_are_read_from_the_bill_once_its_week_has_passed(service: Service) -> None:
    started = await service.client.post(
        "/api/v1/workflows",
        json={"kind": "off_hours", "scope": {"tags": {"environment": "development"}}},
        headers=service.as_("operator"),
    )
    assert started.status_code == 202
    workflow_id = started.json()["workflow_id"]
    await service.settled(workflow_id)
    early = await service.client.get(
        f"/api/v1/workflows/{workflow_id}/savings", headers=service.as_("viewer")
    )
    assert early.status_code == 409 and "has not ended" in early.json()["detail"]
    await service.client.post(
        f"/api/v1/workflows/{workflow_id}/decision",
        json={"decision": "approve"},
        headers=service.as_("approver"),
    )
    assert (await service.settled(workflow_id))["status"] == "completed"
    ended = await service.client.get(
        f"/api/v1/workflows/{workflow_id}/savings", headers=service.as_("viewer")
    )
    assert ended.status_code == 200
    body = ended.json()
    assert body["monthly_savings"] is None and "not measured yet" in body["note"]
