"""Two `optiinfra serve` replicas on one PostgreSQL database behave as one service: a workflow triggered on
one is approved on the other and completes; a replica killed in the middle of a rollout leaves it to the
other, which finishes it with every cloud change made exactly once.

Real processes against a simulator server (a manual clock, so the cloud outlives a killed replica).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.service.keys import create_key
from graphs.database import Database
from tests.conftest import serve_simulator, serving

pytestmark = pytest.mark.postgres
DEADLINE_SECONDS = 180


@contextmanager
def replica(name: str, db: str, cloud: str, logs: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A replica whose leases are short and sweeps frequent, so a takeover happens within seconds."""
    env = {"OPTIINFRA_REPLICA": name, "OPTIINFRA_LEASE_SECONDS": "2", "OPTIINFRA_SWEEP_SECONDS": "0.5",
           "OPTIINFRA_RATE_PER_MINUTE": "1000000"}  # fmt: skip
    with serving(["serve", "--db", db, "--cloud", cloud], env, logs / f"replica-{name}.log") as running:
        yield running


def start_migration(url: str, key: str, **settings: object) -> str:
    """Trigger a spot migration of the AWS fleet on the replica at `url`; its workflow id."""
    started = httpx.post(
        f"{url}/api/v1/workflows", json={"kind": "spot_migration", "scope": {"provider": "aws"}, **settings},
        headers=_auth(key), timeout=30,
    )  # fmt: skip
    assert started.status_code == 202, started.text
    workflow_id: str = started.json()["workflow_id"]
    return workflow_id


def until(ready: Callable[[], Any], what: str, process: subprocess.Popen[str] | None = None) -> Any:
    """Look again until `ready()` is truthy; each look is an HTTP call, which paces the loop."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if process is not None and process.poll() is not None:
            raise AssertionError(f"exited while waiting for {what} (its log is in the test's tmp_path)")
    raise AssertionError(f"gave up waiting for {what}")


def status_of(url: str, key: str, workflow_id: str) -> dict[str, Any]:
    found = httpx.get(f"{url}/api/v1/workflows/{workflow_id}", headers=_auth(key), timeout=30)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def replacements(cloud: str) -> Counter[str]:
    events = httpx.get(f"{cloud}/events", timeout=30).json()
    prefix = "spot replacement for "
    return Counter(e["detail"].removeprefix(prefix) for e in events
                   if e["kind"] == "launched" and e["detail"].startswith(prefix))  # fmt: skip


async def keys(db: str) -> tuple[str, str]:
    database = await Database.open(db)
    try:
        return await create_key(database, "ci-pipeline", "operator"), await create_key(
            database, "alice", "approver"
        )
    finally:
        await database.close()


@contextmanager
def awaiting_on_two_replicas(
    db: str, tmp_path: Path, operator: str, approver: str
) -> Iterator[tuple[str, str, str, str]]:
    """A simulator server, replicas a and b on `db`, and a spot migration triggered on a that b sees waiting
    for approval: (cloud, a, b, workflow id)."""
    with serve_simulator(7, 300) as cloud, ExitStack() as stack:
        a, _ = stack.enter_context(replica("a", db, cloud, tmp_path))
        b, _ = stack.enter_context(replica("b", db, cloud, tmp_path))
        workflow_id = start_migration(a, operator)
        until(lambda: status_of(b, approver, workflow_id)["status"] == "awaiting_approval", "approval")
        yield cloud, a, b, workflow_id


async def test_triggered_on_one_replica_approved_on_the_other(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    operator, approver = await keys(postgres_schema_url)
    waiting = awaiting_on_two_replicas(postgres_schema_url, tmp_path, operator, approver)
    with waiting as (cloud, a, b, workflow_id):
        decided = httpx.post(f"{b}/api/v1/workflows/{workflow_id}/decision", json={"decision": "approve"},
                             headers=_auth(approver), timeout=30)  # fmt: skip
        assert decided.status_code == 202, decided.text
        done = until(
            lambda: (s := status_of(a, operator, workflow_id))["status"] == "completed" and s, "completion"
        )
        report = done["report"]
        assert report["decided_by"] == "alice" and report["changed"]
        made = replacements(cloud)
        assert {i: made[i] for i in report["changed"]} == {i: 1 for i in report["changed"]}


async def test_a_replica_killed_mid_rollout_leaves_it_to_the_other(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    operator, _ = await keys(postgres_schema_url)
    with serve_simulator(7, 300) as cloud, ExitStack() as stack:
        a, doomed = stack.enter_context(replica("a", postgres_schema_url, cloud, tmp_path))
        b, _ = stack.enter_context(replica("b", postgres_schema_url, cloud, tmp_path))
        workflow_id = start_migration(a, operator, auto_approve=True)
        until(lambda: sum(replacements(cloud).values()) > 0, "the first wave to launch replacements")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        done = until(
            lambda: (s := status_of(b, operator, workflow_id))["status"] == "completed" and s, "adoption"
        )
        report = done["report"]
        assert report["changed"]
        made = replacements(cloud)
        assert {i: made[i] for i in report["changed"]} == {i: 1 for i in report["changed"]}
        # No instance got two replacements, and none was touched that the rollout did not approve.
        assert set(made.values()) == {1} and set(made) <= set(report["approved"])
