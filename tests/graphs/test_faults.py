"""Rollouts against a simulator server that throttles, fails and runs out of capacity: whatever the faults,
the report, the cloud and the audit tell the same story — every instance the cloud shows changed is
reported changed (and only those), every reversal the report claims happened in the cloud, and the audit
holds each change's final outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agents.review import RolloutKind
from graphs.rollout.authority import Caller
from graphs.rollout.models import RolloutReport, RolloutSettings
from graphs.rollout.workflow import WorkflowFailedError, open_rollouts
from tests.conftest import serve_simulator
from tools.adapters.http import SimulatorHttpProvider
from tools.resilience import CircuitBreaker, ResilientProvider

OPS = Caller("ops", "operator")
SETTINGS = RolloutSettings(auto_approve=True, max_changes=8, person_above_monthly_savings=1e9)
WRITES = ("migrate", "stop", "start", "resize")
FAULTS: dict[str, dict[str, dict[str, float]]] = {
    # get_instance is how the HTTP adapter waits for an instance to settle: the wait after a change fails.
    "throttled reads": {"get_instance": {"throttle_rate": 0.7}},
    "throttled writes": {op: {"throttle_rate": 0.6} for op in WRITES},
    "errors": {"*": {"error_rate": 0.1, "throttle_rate": 0.3}},
    "capacity": {op: {"capacity_error_rate": 0.4} for op in ("migrate", "start")},
    # The server makes the change, then holds its answer past the client's timeout (CLIENT_TIMEOUT): the
    # client sees a timeout for a write that happened, and for reads of instances that did change.
    "answers past the client timeout": {
        op: {"slow_answer_rate": 0.3, "slow_answer_seconds": 1.0} for op in (*WRITES, "get_instance")
    },
}
CLIENT_TIMEOUT = {"answers past the client timeout": 0.25}


@pytest.fixture(scope="module")
def simulator_server() -> Iterator[str]:
    with serve_simulator(7, 150) as url:
        yield url


def _cloud_changed(instances: list[dict[str, Any]], kind: RolloutKind, targets: dict[str, str]) -> set[str]:
    """The approved instances the cloud itself shows changed."""
    if kind == "spot_migration":
        return {
            i["replaces"] for i in instances
            if i["replaces"] in targets and i["pricing_model"] == "spot" and i["state"] == "running"
        }  # fmt: skip
    return {i["id"] for i in instances if i["id"] in targets and i["instance_type"] == targets[i["id"]]}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", ["spot_migration", "rightsizing"])
async def test_report_cloud_and_audit_agree_whatever_the_faults(
    simulator_server: str, kind: RolloutKind, fault: str
) -> None:
    api = httpx.Client(base_url=simulator_server, timeout=30)
    api.post("/reset", json={"seed": 7, "size": 150}).raise_for_status()
    api.post("/faults", json={"rules": FAULTS[fault]}).raise_for_status()
    http = SimulatorHttpProvider(simulator_server, timeout=CLIENT_TIMEOUT.get(fault, 30.0))
    now = [0.0]  # the breaker's clock: the test says when "later" is
    cloud = ResilientProvider(http, breaker=CircuitBreaker(clock=lambda: now[0]), sleep=lambda _: None)
    async with open_rollouts("memory", cloud) as rollouts:
        try:
            run = await rollouts.start(kind, settings=SETTINGS, caller=OPS)
        except WorkflowFailedError:  # the cloud could not be read at all: said, and retried once it can
            workflow_id = (await rollouts.store.runs())[-1].workflow_id
            assert (await rollouts.status(workflow_id)).status == "failed"
            api.delete("/faults").raise_for_status()
            now[0] += 60  # later: past the breaker's pause, as an operator's `resume` would be
            run = await rollouts.resume(workflow_id)
        report = run.report
        assert isinstance(report, RolloutReport), run.status
        plan = await rollouts.plan(run.workflow_id)
        audit = await rollouts.audit(run.workflow_id)
    api.delete("/faults").raise_for_status()
    assert plan is not None and report.approved
    targets = {c.instance_id: c.target for c in plan.changes if c.instance_id in report.approved}
    instances = api.get("/instances", params={"limit": 10_000}).json()["instances"]

    assert _cloud_changed(instances, kind, targets) == set(report.changed), fault
    changed_in_audit = {e.instance_id for e in audit if e.kind == "change" and e.detail["ok"]}
    reverted_in_audit = {e.instance_id for e in audit if e.kind == "rollback" and e.detail["ok"]}
    assert reverted_in_audit == set(report.rolled_back)
    assert changed_in_audit - reverted_in_audit == set(report.changed)
    failed_in_audit = {e.instance_id for e in audit if e.kind == "change" and not e.detail["ok"]}
    assert failed_in_audit == {i for i in report.failed if "(rollback)" not in i}
