"""Workflows can always end: cancelled at the next step boundary, rolling back what they changed or keeping
it; one waiting for a person stops with nothing changed; who may cancel is who may decide."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphs.rollout.authority import Caller, NotPermittedError
from graphs.rollout.events import ProgressEvent, WaveStarted
from graphs.rollout.models import RolloutSettings
from graphs.rollout.workflow import NothingPendingError, open_rollouts
from mock_cloud import CloudSimulator
from tests.api.test_service import open_service
from tests.conftest import cloud_of

OPS, ALICE = Caller("ops", "operator"), Caller("alice", "approver")
AUTO = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9)


@pytest.mark.parametrize("rollback", [True, False])
async def test_a_rollout_cancelled_during_its_first_wave_stops_after_it(rollback: bool) -> None:
    sim = CloudSimulator(7, 300)
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        workflow_id = await rollouts.register("spot_migration", settings=AUTO, caller=OPS)
        cancelling: list[asyncio.Future[Any]] = []

        def on_progress(event: ProgressEvent) -> None:
            # Sent while wave 1 runs: the cancellation is in before the wave's quality check ends it.
            if isinstance(event, WaveStarted) and event.number == 1:
                cancelling.append(asyncio.ensure_future(rollouts.cancel(workflow_id, ALICE, rollback)))

        run = await rollouts.resume(workflow_id, on_progress)
        await asyncio.gather(*cancelling)
    report = run.report
    assert run.status == "cancelled" and report is not None and len(report.waves) == 1
    first_wave = report.waves[0].changed
    if rollback:
        assert report.changed == [] and len(report.rolled_back) == first_wave > 0
        assert report.reason == f"cancelled by alice: {first_wave} change(s) rolled back"
        still_spot = [i for i in sim.list_instances() if i.replaces and i.state == "running"
                      and i.pricing_model == "spot" and i.replaces in report.approved]  # fmt: skip
        assert still_spot == []
    else:
        assert len(report.changed) == first_wave > 0 and report.rolled_back == []
        assert report.reason == "cancelled by alice: the changes made so far are kept"


async def test_a_workflow_waiting_for_a_person_is_cancelled_with_nothing_changed() -> None:
    sim = CloudSimulator(7, 300)
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        waiting = await rollouts.start("spot_migration", caller=OPS)
        assert waiting.pending is not None
        with pytest.raises(NotPermittedError, match="operator role may not approve or reject"):
            await rollouts.cancel(waiting.workflow_id, OPS)
        await rollouts.cancel(waiting.workflow_id, ALICE)
        with pytest.raises(NothingPendingError, match="being cancelled already"):
            await rollouts.cancel(waiting.workflow_id, ALICE)
        done = await rollouts.resume(waiting.workflow_id)
        with pytest.raises(NothingPendingError, match=r"has ended \(cancelled\)"):
            await rollouts.cancel(waiting.workflow_id, ALICE)
    assert done.status == "cancelled" and done.report is not None
    assert done.report.changed == [] and done.report.reason == "cancelled by alice"
    assert not [e for e in sim.events() if e.kind == "launched"]


async def test_cancel_over_http_needs_the_approver_role_and_ends_the_workflow() -> None:
    async with open_service() as service:
        started = await service.client.post(
            "/api/v1/workflows", json={"kind": "spot_migration"}, headers=service.as_("operator")
        )
        workflow_id = started.json()["workflow_id"]
        assert (await service.settled(workflow_id))["status"] == "awaiting_approval"
        url = f"/api/v1/workflows/{workflow_id}/cancel"
        refused = await service.client.post(url, headers=service.as_("operator"))
        assert refused.status_code == 403
        kept = await service.client.post(url, json={"rollback": False}, headers=service.as_("approver"))
        assert kept.status_code == 202
        await service.app.state.runner.wait(workflow_id)
        done = await service.settled(workflow_id)
        assert done["status"] == "cancelled"
        assert (await service.client.post(url, headers=service.as_("approver"))).status_code == 409
