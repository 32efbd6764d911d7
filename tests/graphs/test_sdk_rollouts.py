"""Rollouts on Azure and GCP: the workflows drive each cloud's own SDK (its pollers, errors, serialisation)
against the simulator's dialect of that cloud (ARM; Compute Engine and Cloud Monitoring), and what happened
is checked in the simulator's own REST API, not in our reports."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphs.rollout.authority import Caller
from graphs.rollout.events import ProgressEvent, RollbackStarted, WaveStarted
from graphs.rollout.models import Decision, RolloutSettings, Scope
from graphs.rollout.workflow import WorkflowFailedError, open_rollouts
from tests.conftest import Tls, free_port, serve_simulator
from tests.tools.azure_account import simulated_subscription
from tests.tools.gcp_project import simulated_project
from tools.adapters.azure import AzureProvider
from tools.adapters.gcp import GcpProvider
from tools.resilience import ResilientProvider

SEED, SIZE = 42, 150
AUTO = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9)
BY_A_PERSON = RolloutSettings(person_above_monthly_savings=1e9)
OPS = Caller("ops", "operator")


class SdkCloud:
    """The simulator as an Azure subscription or a GCP project, and its own REST API to check what the
    rollout did."""

    def __init__(self, name: str, url: str, tls: Tls | None, monitoring_port: int = 0) -> None:
        self.name = name
        self.scope = Scope(provider="azure" if name == "azure" else "gcp")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=tls.ca) if tls else True
        self.rest = httpx.Client(base_url=url, verify=verify, timeout=30)
        self.rest.post("/reset", json={"seed": SEED, "size": SIZE}).raise_for_status()
        adapter: AzureProvider | GcpProvider
        if tls is not None:
            adapter, self.time = simulated_subscription(url, tls.ca)
        else:
            adapter, self.time = simulated_project(url, monitoring_port)
        self.cloud = ResilientProvider(adapter, sleep=self.time.sleep)  # backs off in the cloud's time
        self._closers = [adapter.close, self.time.close, self.rest.close]

    def instance(self, iid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.rest.get(f"/instances/{iid}").json()
        return found

    def running(self) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"provider": self.name, "state": "running", "limit": 500}
        found: list[dict[str, Any]] = self.rest.get("/instances", params=params).json()["instances"]
        return found

    def faults(self, rules: dict[str, dict[str, float]]) -> None:
        self.rest.post("/faults", json={"rules": rules}).raise_for_status()

    def launched(self) -> list[dict[str, Any]]:
        return [e for e in self.rest.get("/events").json() if e["kind"] == "launched"]

    def close(self) -> None:
        for close in self._closers:
            close()


@pytest.fixture(scope="module")
def arm(tls: Tls) -> Iterator[str]:
    with serve_simulator(SEED, SIZE, tls=tls) as url:
        yield url


@pytest.fixture(scope="module")
def gce() -> Iterator[tuple[str, int]]:
    monitoring = free_port()
    with serve_simulator(SEED, SIZE, monitoring_port=monitoring) as url:
        yield url, monitoring


@pytest.fixture(params=["azure", "gcp"])
def cloud(request: pytest.FixtureRequest) -> Iterator[SdkCloud]:
    if request.param == "azure":
        found = SdkCloud("azure", request.getfixturevalue("arm"), request.getfixturevalue("tls"))
    else:
        url, monitoring = request.getfixturevalue("gce")
        found = SdkCloud("gcp", url, None, monitoring)
    yield found
    found.close()


async def test_a_spot_migration_replaces_each_vm_once(cloud: SdkCloud) -> None:
    async with open_rollouts("memory", cloud.cloud) as rollouts:
        run = await rollouts.start("spot_migration", cloud.scope, AUTO, caller=OPS)
    report = run.report
    assert report is not None and report.status == "completed" and report.changed, report
    assert sorted(report.changed) == sorted(report.approved) and report.success_rate == 1.0
    for original, replacement in report.replacements.items():
        new = cloud.instance(replacement)
        assert (new["provider"], new["pricing_model"], new["state"]) == (cloud.name, "spot", "running")
        assert new["replaces"] == original and new["tags"]["replaces"] == original
        assert cloud.instance(original)["state"] in ("shutting-down", "terminated")
    assert len(cloud.launched()) == len(report.changed)  # one VM created per change, no more


async def test_a_rightsizing_approved_by_a_person_resizes_the_vms(cloud: SdkCloud) -> None:
    async with open_rollouts("memory", cloud.cloud) as rollouts:
        waiting = await rollouts.start("rightsizing", cloud.scope, BY_A_PERSON, caller=OPS)
        assert waiting.pending is not None
        plan = await rollouts.plan(waiting.workflow_id)
        assert plan is not None
        done = await rollouts.decide(
            waiting.workflow_id, Decision(decision="approve", by="alice"), Caller("alice", "approver")
        )
    report = done.report
    assert report is not None and report.status == "completed" and report.changed
    targets = {c.instance_id: c.target for c in plan.changes}
    for iid in report.changed:
        vm = cloud.instance(iid)
        assert (vm["instance_type"], vm["state"]) == (targets[iid], "running")


async def test_throttling_through_the_sdk_is_retried_and_the_migration_completes(
    cloud: SdkCloud,
) -> None:
    cloud.faults({"migrate": {"throttle_rate": 0.3}})  # 429: ARM's TooManyRequests, GCE's rateLimitExceeded
    async with open_rollouts("memory", cloud.cloud) as rollouts:
        run = await rollouts.start("spot_migration", cloud.scope, AUTO, caller=OPS)
    assert run.report is not None and run.report.status == "completed" and run.report.success_rate == 1.0
    assert len(cloud.launched()) == len(run.report.changed)


async def test_allocation_failures_past_the_limit_roll_back_cleanly(cloud: SdkCloud) -> None:
    """The cloud accepts the new Spot machine, then its operation fails (Azure's AllocationFailed, GCE's
    ZONE_RESOURCE_POOL_EXHAUSTED): a CapacityError."""
    cloud.faults({"migrate": {"capacity_error_rate": 0.8}})

    def capacity_returns(event: ProgressEvent) -> None:
        if isinstance(event, RollbackStarted):
            cloud.faults({})

    async with open_rollouts("memory", cloud.cloud) as rollouts:
        run = await rollouts.start(
            "spot_migration", cloud.scope, AUTO, on_progress=capacity_returns, caller=OPS
        )
    report = run.report
    assert report is not None and report.status == "rolled_back" and report.changed == []
    assert report.failed and all(why.startswith("CapacityError") for why in report.failed.values())
    assert [
        i for i in cloud.running() if i["pricing_model"] == "spot" and i["replaces"]
    ] == []  # nothing the rollout created is left running on Spot


async def test_vms_that_fail_to_start_stop_the_rollout_until_capacity_returns(
    cloud: SdkCloud,
) -> None:
    """Every start fails (no capacity), so a resized VM cannot start, nor start again on its old size:
    the rollout stops and says so, changes nothing more, and a resume once capacity is back leaves every VM
    running."""
    async with open_rollouts("memory", cloud.cloud) as rollouts:
        waiting = await rollouts.start("rightsizing", cloud.scope, BY_A_PERSON, caller=OPS)
        assert waiting.pending is not None

        def no_capacity_from_wave_one(event: ProgressEvent) -> None:
            if isinstance(event, WaveStarted) and event.number == 1:
                cloud.faults({"start": {"capacity_error_rate": 1.0}})

        with pytest.raises(WorkflowFailedError, match="could not be restored") as failed:
            await rollouts.decide(
                waiting.workflow_id,
                Decision(decision="approve", by="erin"),
                Caller("erin", "approver"),
                on_progress=no_capacity_from_wave_one,
            )
        assert "CapacityError" in str(failed.value)
        cloud.faults({})
        done = await rollouts.resume(waiting.workflow_id)
    assert done.report is not None and done.report.status in ("completed", "rolled_back")
    for iid in waiting.pending.instance_ids:
        assert cloud.instance(iid)["state"] == "running"
