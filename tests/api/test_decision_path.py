"""One decision path: every role × every action × every interface (workflow routes, chat over HTTP, the
command line) is allowed or refused by the same rule, in the same words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphs.rollout.authority import ROLES
from tests.api.test_service import Service, open_service

MIGRATE = "move the staging instances to spot"
NEEDS_START = "may not start rollouts (it takes the operator role)"
NEEDS_DECIDE = "may not approve or reject rollouts (it takes the approver role)"
OWN_APPROVAL = "the workflow's requester may not approve it: another person must"


async def _chat(service: Service, role: str, thread: str, message: str) -> dict[str, object]:
    answer = await service.client.post(
        "/api/v1/chat",
        json={"thread_id": thread, "message": message},
        headers=service.as_(role),  # type: ignore[arg-type]
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def _pending_workflow(service: Service) -> str:
    started = await service.client.post(
        "/api/v1/workflows", json={"kind": "spot_migration"}, headers=service.as_("admin")
    )
    workflow_id: str = started.json()["workflow_id"]
    assert (await service.settled(workflow_id))["status"] == "awaiting_approval"
    return workflow_id


async def test_every_role_may_ask_but_only_operators_and_above_start_from_chat_or_http() -> None:
    async with open_service() as service:
        for role in ROLES:
            asked = await _chat(service, role, f"ask-{role}", "what did we spend over the last 7 days?")
            assert asked["route"] == "cost" and "USD" in str(asked["reply"])
            by_chat = await _chat(service, role, f"start-{role}", MIGRATE)
            by_http = await service.client.post(
                "/api/v1/workflows",
                json={"kind": "spot_migration"},
                headers=service.as_(role),
            )
            if role == "viewer":
                assert f"the viewer role {NEEDS_START}" in str(by_chat["reply"])
                assert by_chat["pending_approval"] is None
                assert by_http.status_code == 403
                assert by_http.json()["detail"] == f"the viewer role {NEEDS_START}"
            else:
                # A workflow is started (its plan may be empty: earlier ones hold the instances).
                assert "workflow" in by_chat["data"], (role, by_chat["reply"])  # type: ignore[operator]
                assert by_http.status_code == 202, (role, by_http.text)
        started_by = {r.requested_by for r in await service.app.state.rollouts.store.runs()}
        assert "viewer-key" not in started_by


async def test_only_approvers_and_admins_decide_whichever_door_they_use() -> None:
    async with open_service() as service:
        workflow_id = await _pending_workflow(service)
        for role in ("viewer", "operator"):
            for decision in ("approve", "reject"):
                by_http = await service.client.post(
                    f"/api/v1/workflows/{workflow_id}/decision",
                    json={"decision": decision},
                    headers=service.as_(role),
                )
                assert by_http.status_code == 403
                assert by_http.json()["detail"] == f"the {role} role {NEEDS_DECIDE}"
                by_chat = await _chat(service, role, f"decide-{role}", f"{decision} {workflow_id}")
                assert by_chat["reply"] == f"the {role} role {NEEDS_DECIDE}", by_chat
        still = await service.settled(workflow_id)
        assert still["status"] == "awaiting_approval"
        audit = await service.client.get(
            f"/api/v1/workflows/{workflow_id}/audit", headers=service.as_("viewer")
        )
        assert not [e for e in audit.json() if e["kind"] == "decision"]
        decided = await _chat(service, "approver", "decide-approver", f"reject {workflow_id}")
        assert "was rejected" in str(decided["reply"])
        second = await _pending_workflow(service)
        by_admin = await service.client.post(
            f"/api/v1/workflows/{second}/decision", json={"decision": "reject"}, headers=service.as_("admin")
        )
        assert by_admin.status_code == 202


async def test_the_distinct_approver_rule_holds_in_chat_over_http_and_at_the_command_line(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    async with open_service(distinct_approver=True, db=db) as service:
        started = await _chat(service, "approver", "own", MIGRATE)
        pending = started["pending_approval"]
        assert isinstance(pending, dict)
        workflow_id = pending["workflow_id"]
        by_chat = await _chat(service, "approver", "own", "approve")
        assert by_chat["reply"] == OWN_APPROVAL
        by_http = await service.client.post(
            f"/api/v1/workflows/{workflow_id}/decision",
            json={"decision": "approve"},
            headers=service.as_("approver"),
        )
        assert by_http.status_code == 403 and by_http.json()["detail"] == OWN_APPROVAL
        # The rule travels with the workflow: the command line, which runs without the service's settings,
        # refuses the requester too, before it needs a cloud.
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "api.cli",
                "workflow",
                "approve",
                workflow_id,
                "--by",
                "approver-key",
                "--db",
                db,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 1 and cli.stderr.strip() == f"optiinfra: {OWN_APPROVAL}"
        # The requester may still reject their own plan.
        other = await service.client.post(
            f"/api/v1/workflows/{workflow_id}/decision",
            json={"decision": "reject"},
            headers=service.as_("approver"),
        )
        assert other.status_code == 202
