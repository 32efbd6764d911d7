"""`optiinfra apikey …` and `optiinfra serve`'s refusals; the service's logs and its last-resort error."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx

from api.service.app import create_app
from api.service.logs import JsonLines
from api.service.settings import ServiceSettings
from mock_cloud import CloudSimulator
from tests.api.test_workflow_cli import ok_json, optiinfra
from tools.adapters.simulator import SimulatorProvider
from tools.models import InstanceFilter, InstancePage


def test_keys_are_shown_once_listed_without_secrets_and_revoked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    made = optiinfra("apikey", "create", "alice", "--role", "approver", "--db", db)
    assert made.returncode == 0 and made.stdout.startswith("oik_")
    key = made.stdout.strip()
    again = optiinfra("apikey", "create", "alice", "--role", "viewer", "--db", db)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert optiinfra("apikey", "create", "bob", "--role", "god", "--db", db).returncode == 2
    listed = ok_json("apikey", "list", "--db", db, "--json")
    assert [(k["name"], k["role"], k["revoked_at"]) for k in listed] == [("alice", "approver", None)]
    assert key not in json.dumps(listed) and "key_hash" not in listed[0]
    assert optiinfra("apikey", "revoke", "alice", "--db", db).returncode == 0
    assert optiinfra("apikey", "revoke", "alice", "--db", db).returncode == 2  # nothing active left
    assert ok_json("apikey", "list", "--db", db, "--json")[0]["revoked_at"] is not None


def test_serve_refuses_no_auth_beyond_this_machine() -> None:
    refused = optiinfra("serve", "--no-auth", "--host", "0.0.0.0")
    assert refused.returncode == 2 and "--no-auth is for local use" in refused.stderr


def test_json_log_lines_carry_the_workflow_id() -> None:
    record = logging.LogRecord(
        "optiinfra.workflows", logging.INFO, __file__, 1, "adopting %s", ("wf-1",), None
    )
    record.workflow_id = "wf-1"
    line = json.loads(JsonLines().format(record))
    assert (line["message"], line["workflow_id"], line["level"]) == ("adopting wf-1", "wf-1", "info")


class BrokenCloud(SimulatorProvider):
    """A cloud adapter with a bug: what the service answers when something it did not foresee breaks."""

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        raise RuntimeError("secret-token-123 leaked in a traceback")


async def test_an_unforeseen_error_is_a_bare_500_with_no_trace() -> None:
    app = create_app(
        ServiceSettings(db="memory", auth=False), cloud=BrokenCloud(CloudSimulator(1, 10)), sweep=False
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            answer = await client.get("/api/v1/instances")
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert "secret-token" not in answer.text and "Traceback" not in answer.text
