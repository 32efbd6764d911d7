"""Notifications and approvals where people meet them: channels over HTTP (viewers read, operators manage,
secrets never returned) and on the command line; a plan that needs two approvers, one an admin, decided
through the workflow route, chat and the command line by the same rules; the scheduler on one replica at a
time, expiring a request nobody decided; `optiinfra finops check` for cron."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from api.service.keys import create_key
from api.service.scheduler import Scheduler
from graphs.database import Database
from graphs.finops import FinOps
from graphs.rollout.approvals import ApprovalLevel, ApprovalPolicy, ApprovalRule
from graphs.rollout.workflow import open_rollouts
from graphs.service_store import ServiceStore
from mock_cloud import CloudSimulator
from tests.api.test_service import Service, open_service
from tests.conftest import cloud_of
from tests.receivers import http_receiver
from tools.channels.subscription import Channel
from tools.channels.webhook import WebhookTarget

SECRET_URL_PART = "T0/B0/VERYSECRET"
TWO_WITH_AN_ADMIN = ApprovalPolicy(rules=(ApprovalRule(monthly_usd=100, approvers=2, admins=1),))


async def test_channels_over_http_never_show_their_secrets() -> None:
    async with open_service() as service:
        with http_receiver() as receiver:
            slack = {"kind": "slack", "url": f"{receiver.url}/services/{SECRET_URL_PART}"}
            body = {"name": "ops", "target": slack, "events": ["approval_requested"],
                    "min_severity": "warning", "scope": {"tags": {"team": "ml"}}}  # fmt: skip
            path = "/api/v1/notifications"
            assert (
                await service.client.post(path, json=body, headers=service.as_("viewer"))
            ).status_code == 403
            made = await service.client.post(path, json=body, headers=service.as_("operator"))
            assert made.status_code == 201, made.text
            again = await service.client.post(path, json=body, headers=service.as_("operator"))
            assert again.status_code == 409 and "exists already" in again.json()["detail"]
            bad = {**body, "name": "x", "target": {"kind": "webhook", "url": "ftp://example.com"}}
            assert (
                await service.client.post(path, json=bad, headers=service.as_("operator"))
            ).status_code == 422
            nul = {**body, "name": "y", "events": [], "scope": {"tags": {"team": "m\x00l"}}}
            assert (
                await service.client.post(path, json=nul, headers=service.as_("operator"))
            ).status_code == 422
            listed = await service.client.get(path, headers=service.as_("viewer"))
            one = await service.client.get(f"{path}/ops", headers=service.as_("viewer"))
            tested = await service.client.post(f"{path}/ops/test", headers=service.as_("operator"))
            log = await service.client.get(f"{path}/deliveries", headers=service.as_("viewer"))
            for answer in (made, listed, one, tested, log):
                assert SECRET_URL_PART not in answer.text
            assert listed.json()[0]["target"] == f"Slack incoming webhook {receiver.url}/…"
            assert tested.json()["status"] == "sent" and len(receiver.posts) == 1
            assert [d["channel"] for d in log.json()] == ["ops"]
            assert (
                await service.client.delete(f"{path}/ops", headers=service.as_("operator"))
            ).status_code == 204
            assert (await service.client.get(f"{path}/ops", headers=service.as_("viewer"))).status_code == 404


async def _decide(
    service: Service, workflow_id: str, key: str, decision: str = "approve"
) -> dict[str, object]:
    answer = await service.client.post(
        f"/api/v1/workflows/{workflow_id}/decision", json={"decision": decision},
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    body: dict[str, object] = answer.json() | {"http_status": answer.status_code}
    return body


async def test_two_approvers_one_an_admin_by_the_same_rules_through_http_and_chat() -> None:
    async with open_service(approval_policy=TWO_WITH_AN_ADMIN) as service:
        db = service.app.state.rollouts.db
        alice = await create_key(db, "alice", "approver")
        started = await service.client.post(
            "/api/v1/workflows",
            json={"kind": "spot_migration", "max_changes": 4},
            headers=service.as_("operator"),
        )
        workflow_id = started.json()["workflow_id"]
        pending = await service.settled(workflow_id)
        assert pending["pending"]["needs"]["approvers"] == 2  # type: ignore[index]
        first = await _decide(service, workflow_id, alice)
        assert first["http_status"] == 202 and first["status"] == "awaiting_approval"
        assert first["waiting_for"] == "1 more approval from an admin"
        twice = await _decide(service, workflow_id, alice)
        assert twice["http_status"] == 409 and "alice has approved already" in str(twice["detail"])
        by_http = await _decide(service, workflow_id, service.keys["approver"])
        assert by_http["http_status"] == 403 and "must come from an admin" in str(by_http["detail"])
        by_chat = await service.client.post(
            "/api/v1/chat",
            json={"thread_id": "t", "message": f"approve {workflow_id}"},
            headers=service.as_("approver"),
        )
        assert "must come from an admin" in by_chat.json()["reply"]
        done = await service.client.post(
            "/api/v1/chat",
            json={"thread_id": "t", "message": f"approve {workflow_id}"},
            headers=service.as_("admin"),
        )
        assert "completed" in done.json()["reply"], done.json()["reply"]
        audit = await service.client.get(
            f"/api/v1/workflows/{workflow_id}/audit", headers=service.as_("viewer")
        )
        decisions = [(e["actor"], e["detail"].get("role")) for e in audit.json() if e["kind"] == "decision"]
        assert decisions == [("alice", "approver"), ("admin-key", "admin"), ("alice and admin-key", None)]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "api.cli", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal's words, without the box and line breaks the terminal panel adds."""
    return " ".join(result.stderr.replace("│", " ").split())


def test_two_approvals_on_the_command_line(tmp_path: Path) -> None:
    from tests.conftest import serve_simulator

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    policy = tmp_path / "policy.json"
    policy.write_text(TWO_WITH_AN_ADMIN.model_dump_json())
    with serve_simulator(7, 200) as cloud:
        started = _cli("workflow", "start", "spot-migration", "--cloud", cloud, "--db", db,
                       "--max-changes", "3", "--approval-policy", str(policy), "--id", "wf-two",
                       "--by", "ops")  # fmt: skip
        assert "needs 2 more approvals, 1 of them from admins" in started.stdout, started.stderr
        first = _cli("workflow", "approve", "wf-two", "--by", "alice", "--db", db)
        assert "approved by alice; needs 1 more approval" in first.stdout, first.stderr
        again = _cli("workflow", "approve", "wf-two", "--by", "alice", "--db", db)
        assert again.returncode == 1 and again.stderr.startswith("optiinfra: alice has approved already")
        done = _cli("workflow", "approve", "wf-two", "--by", "bob", "--db", db)
        assert "completed" in done.stdout, done.stderr
    audit = json.loads(_cli("workflow", "audit", "wf-two", "--db", db, "--json").stdout)
    assert [e["actor"] for e in audit if e["kind"] == "decision"] == ["alice", "bob", "alice and bob"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"rules": [{"approvers": 2}]}')
    refused = _cli("workflow", "start", "rightsizing", "--cloud", "http://127.0.0.1:9", "--db", db,
                   "--approval-policy", str(broken))  # fmt: skip
    assert refused.returncode == 2
    assert "--approval-policy: rules.0: a rule needs a monthly_usd or a risk to apply to" in _said(refused)


async def test_the_scheduler_runs_on_one_replica_and_expires_a_request_nobody_decided(
    postgres_schema_url: str,
) -> None:
    sim = CloudSimulator(7, 200)
    short = ApprovalPolicy(levels=(ApprovalLevel(role="approver", hours=1),), warn_hours=0)
    async with open_service(cloud_of(sim), db=postgres_schema_url, approval_policy=short) as service:
        app = service.app
        with http_receiver() as receiver:
            channel = Channel(name="all", target=WebhookTarget(url=receiver.url))
            await app.state.rollouts.notifier.store.add(channel, "lead")
            started = await service.client.post(
                "/api/v1/workflows",
                json={"kind": "spot_migration", "max_changes": 3},
                headers=service.as_("operator"),
            )
            workflow_id = started.json()["workflow_id"]
            assert (await service.settled(workflow_id))["status"] == "awaiting_approval"
            replica_b = cloud_of(CloudSimulator(7, 200))
            async with open_rollouts(postgres_schema_url, replica_b) as elsewhere:  # another replica
                other = Scheduler(FinOps(elsewhere), ServiceStore(elsewhere.db), "replica-b", 10, 900)
                mine: Scheduler = app.state.scheduler
                ticked = await asyncio.gather(mine.tick(), other.tick())
                assert sorted(ticked) == [False, True]  # one holds the duty
                holder, waiting = (mine, other) if ticked[0] else (other, mine)
                assert not await waiting.tick()
                await holder.close()  # a replica shutting down hands the duty over at once
                assert await waiting.tick()
                await waiting.close()
            sim.advance(2 * 3600)  # past the request's only deadline
            assert await mine.tick()
            await app.state.runner.wait(workflow_id)
            ended = await service.settled(workflow_id)
        assert ended["status"] == "expired" and ended["report"]["changed"] == []  # type: ignore[index]
        assert receiver.events()[0] == "approval_requested" and receiver.events()[-1] == "rollout_expired"


async def test_finops_check_and_notify_on_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    with http_receiver() as receiver:
        missing = _cli(
            "notify", "add", "hook", "--webhook", receiver.url, "--secret-env", "NO_SUCH_VARIABLE", "--db", db
        )
        assert missing.returncode == 2 and "the environment variable NO_SUCH_VARIABLE is not set" in _said(
            missing
        )
        secret = "a-signing-key-of-some-length"
        added = _cli("notify", "add", "hook", "--webhook", f"{receiver.url}/in?token=TOPSECRET",
                     "--secret-env", "HOOK_SECRET", "--event", "budget_threshold", "--team", "ml",
                     "--db", db, env={"HOOK_SECRET": secret})  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() == (
            f"Channel hook: webhook to {receiver.url}/… (signed); "
            "budget_threshold about team=ml, info and above"
        )
        listed = _cli("notify", "list", "--json", "--db", db)
        assert "TOPSECRET" not in listed.stdout and secret not in listed.stdout
        assert _cli("notify", "test", "hook", "--db", db).stdout.strip() == "Test notification sent to hook."
        assert _cli("budget", "create", "ml", "--amount", "500", "--team", "ml", "--db", db).returncode == 0
        checked = _cli("finops", "check", "--size", "200", "--db", db)
        assert checked.returncode == 0, checked.stderr
        assert "crossed: 50 % actual (new)" in checked.stdout and "Anomalies, last 7 day(s)" in checked.stdout
        assert "(new)" not in _cli("finops", "check", "--size", "200", "--db", db).stdout
        posts = receiver.posts
        assert all(p.signed_by(secret) for p in posts)
        assert sorted(p.json()["facts"].get("threshold", "test") for p in posts) == [
            "actual:100", "actual:50", "actual:80", "forecast:100", "test"
        ]  # fmt: skip
        log = _cli("notify", "log", "--db", db)
        assert log.stdout.count("sent     hook") == 5
        assert _cli("notify", "remove", "hook", "--db", db).returncode == 0
        gone = _cli("notify", "remove", "hook", "--db", db)
        assert (
            gone.returncode == 1
            and gone.stderr.strip() == "optiinfra: no channel named 'hook' (see `optiinfra notify list`)"
        )
    database = await Database.open(db)  # the channels were in the same database as the budgets
    await database.close()
