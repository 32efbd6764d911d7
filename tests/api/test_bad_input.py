"""Bad input over HTTP, on SQLite and PostgreSQL alike: a 4xx problem that says what was wrong, never a 500,
and nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.test_service import open_service

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_bad_input_is_a_4xx_problem_on_every_database(db_url: str) -> None:
    async with open_service(db=db_url) as service:
        admin = service.as_("admin")
        one = (await service.client.get("/api/v1/instances?limit=1", headers=admin)).json()["items"][0]["id"]
        started = await service.client.post(
            "/api/v1/workflows", json={"kind": "rightsizing", "scope": {"instance_ids": [one]}}, headers=admin
        )
        workflow_id = started.json()["workflow_id"]
        await service.settled(workflow_id)
        refused = {
            "NUL in a path": await service.client.get("/api/v1/workflows/wf-%00x", headers=admin),
            "NUL in a query": await service.client.get("/api/v1/instances?region=us%00east", headers=admin),
            "NUL in a chat message": await service.client.post(
                "/api/v1/chat", json={"message": "hello\u0000"}, headers=admin
            ),
            "NUL in a scope": await service.client.post(
                "/api/v1/workflows",
                json={"kind": "rightsizing", "scope": {"region": "us\u0000"}},
                headers=admin,
            ),
            "NUL in a comment": await service.client.post(
                f"/api/v1/workflows/{workflow_id}/decision",
                json={"decision": "reject", "comment": "no\u0000"},
                headers=admin,
            ),
            "an event id past any": await service.client.get(
                f"/api/v1/workflows/{workflow_id}/events?after={2**63}", headers=admin
            ),
            "an unknown instance": await service.client.post(
                "/api/v1/workflows",
                json={"kind": "spot_migration", "scope": {"instance_ids": ["i-doesnotexist"]}},
                headers=admin,
            ),
            "a tag filter without a value": await service.client.get("/api/v1/costs?tag=team", headers=admin),
            "an over-long tag": await service.client.post(
                "/api/v1/workflows",
                json={"kind": "spot_migration", "scope": {"tags": {"team": "x" * 300}}},
                headers=admin,
            ),
        }
        for what, answer in refused.items():
            assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text)
            assert answer.headers["content-type"] == PROBLEM, what
        assert "i-doesnotexist" in refused["an unknown instance"].json()["detail"]
        assert "NUL" in refused["NUL in a chat message"].json()["detail"]
        # The same rule and words as `--tag team` on the command line.
        assert refused["a tag filter without a value"].json()["detail"] == "tag: 'team': expected key=value"

        # A Last-Event-ID that is a digit but not an ASCII one is ignored, not a 500.
        raw = [(k.encode(), v.encode()) for k, v in admin.items()] + [(b"last-event-id", "²".encode())]
        odd = await service.client.get(f"/api/v1/workflows/{workflow_id}/events", headers=raw)
        assert odd.status_code == 200 and "event:" in odd.text

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: its size shows as it streams in
            yield b'{"message": "'
            for _ in range(80):
                yield b"x" * 1024
            yield b'"}'

        streamed = await service.client.post(
            "/api/v1/chat", content=chunks(), headers={**admin, "content-type": "application/json"}
        )
        assert streamed.status_code == 413 and streamed.headers["content-type"] == PROBLEM
        counted = (await service.client.get("/metrics")).text
        assert 'status="413"' in counted  # refused bodies are counted like every other answer
        runs = await service.app.state.rollouts.store.runs()
        assert [r.workflow_id for r in runs] == [workflow_id]  # nothing refused was recorded
