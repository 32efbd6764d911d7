"""Decisions sent at once to one workflow: exactly one is taken (202), every other is refused (409), and
one driver carries the workflow on, on one replica or two."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.api.test_replicas import _auth, awaiting_on_two_replicas, keys, replacements, status_of, until
from tests.api.test_service import Service, open_service

# Five approvals and a rejection, the way impatient people and retrying scripts send them.
DECISIONS = [{"decision": "approve"}] * 5 + [{"decision": "reject"}]


async def _pending(service: Service) -> str:
    started = await service.client.post(
        "/api/v1/workflows", json={"kind": "spot_migration"}, headers=service.as_("operator")
    )
    workflow_id: str = started.json()["workflow_id"]
    assert (await service.settled(workflow_id))["status"] == "awaiting_approval"
    return workflow_id


async def test_concurrent_decisions_to_one_replica_take_one_and_refuse_the_rest() -> None:
    async with open_service() as service:
        workflow_id = await _pending(service)
        answers = await asyncio.gather(
            *(
                service.client.post(
                    f"/api/v1/workflows/{workflow_id}/decision", json=body, headers=service.as_("approver")
                )
                for body in DECISIONS
            )
        )
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {202: 1, 409: len(DECISIONS) - 1}, [a.text for a in answers]
        taken = next(DECISIONS[k]["decision"] for k, a in enumerate(answers) if a.status_code == 202)
        await service.app.state.runner.wait(workflow_id)
        done = await service.settled(workflow_id)
        events = [e["event"] for _, e in await service.app.state.rollouts.store.events(workflow_id)]
        assert events.count("report") == 1 and events.count("decision") == 1
        assert events.count("wave_started") == len(done["waves"])  # type: ignore[arg-type]
        report = done["report"]
        assert isinstance(report, dict)
        if taken == "reject":
            assert done["status"] == "rejected" and report["changed"] == []
        else:
            assert done["status"] == "completed" and report["changed"]
        audit = await service.client.get(
            f"/api/v1/workflows/{workflow_id}/audit", headers=service.as_("viewer")
        )
        assert [e["detail"]["decision"] for e in audit.json() if e["kind"] == "decision"] == [taken]


@pytest.mark.postgres
async def test_concurrent_decisions_to_two_replicas_take_one(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    operator, approver = await keys(postgres_schema_url)
    waiting = awaiting_on_two_replicas(postgres_schema_url, tmp_path, operator, approver)
    with waiting as (cloud, a, b, workflow_id):

        def send(k: int) -> httpx.Response:
            url = (a, b)[k % 2]  # every other one to the other replica
            return httpx.post(f"{url}/api/v1/workflows/{workflow_id}/decision", json=DECISIONS[k],
                              headers=_auth(approver), timeout=60)  # fmt: skip

        with ThreadPoolExecutor(len(DECISIONS)) as pool:
            answers = list(pool.map(send, range(len(DECISIONS))))
        assert Counter(r.status_code for r in answers) == {202: 1, 409: len(DECISIONS) - 1}
        taken = next(DECISIONS[k]["decision"] for k, r in enumerate(answers) if r.status_code == 202)
        final = "rejected" if taken == "reject" else "completed"
        done = until(lambda: (s := status_of(a, approver, workflow_id))["status"] == final and s, final)
        made = replacements(cloud)
        changed = done["report"]["changed"]
        assert {i: made[i] for i in changed} == {i: 1 for i in changed} and sum(made.values()) == len(changed)
