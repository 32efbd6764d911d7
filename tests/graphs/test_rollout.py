"""The rollout graph end to end on an in-process simulator: every gate path, degradation and rollback,
faults, concurrent workflows, the audit log, and the checkpoints' size."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from langchain_core.runnables import RunnableConfig

from graphs.checkpointing import open_checkpointer
from graphs.database import Database
from graphs.database_url import DatabaseUrl
from graphs.rollout.authority import Caller
from graphs.rollout.events import Planned, ProgressEvent, RollbackStarted, WaveStarted
from graphs.rollout.graph import build_rollout_graph
from graphs.rollout.models import STATE_TYPES, Decision, RolloutSettings, Scope
from graphs.rollout.planning import make_plan
from graphs.rollout.store import AuditEntry
from graphs.rollout.workflow import (
    InvalidDecisionError,
    NothingPendingError,
    RolloutRun,
    Rollouts,
    open_rollouts,
)
from mock_cloud import CloudSimulator, SimClock
from mock_cloud.faults import FaultRule
from tests.conftest import cloud_of, serve_simulator
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.errors import CapacityError
from tools.models import Instance

SEED, SIZE = 7, 300
# Auto-approved without a person: these plans save more than the policy's 10,000 USD/month person limit.
AUTO = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9)
SNAPSHOT = Path(__file__).with_name("rollout_graph.mmd")
OPS = Caller("ops", "operator")


async def test_auto_approved_spot_migration_changes_each_approved_instance_once(db_url: str) -> None:
    sim = CloudSimulator(SEED, SIZE)
    async with open_rollouts(db_url, cloud_of(sim)) as rollouts:
        run = await rollouts.start("spot_migration", settings=AUTO, caller=OPS)
        audit = await rollouts.audit(run.workflow_id)
        plan = await rollouts.plan(run.workflow_id)
        assert plan is not None
    report = run.report
    assert run.status == report.status == "completed" and run.pending is None  # type: ignore[union-attr]
    assert report is not None and report.decided_by == "policy"
    assert [a.agent for a in report.approvals] == ["application", "performance", "resource"]
    assert all(a.approved and 0 < a.confidence <= 1 for a in report.approvals)
    assert sorted(report.changed) == sorted(report.approved) and report.success_rate == 1.0
    assert [w.instances for w in report.waves] == _wave_sizes(len(report.approved))
    for original, replacement in report.replacements.items():  # each moved exactly once, to spot
        new = sim.get_instance(replacement)
        assert new.pricing_model == "spot" and new.state == "running" and new.replaces == original
        assert sim.get_instance(original).replaced_by == replacement
    launched = [e for e in sim.events() if e.kind == "launched"]
    assert len(launched) == len(report.changed)
    kept = [c for c in plan.changes if c.instance_id in report.changed]
    assert report.monthly_savings == pytest.approx(sum(c.monthly_savings for c in kept), abs=0.01)
    assert report.monthly_savings > 0
    # Measured on the bill: each machine's cost an hour before against an hour after, the simulator's own,
    # over a month of the hours it runs: the share of the plan's 14-day lookback (or of its life, if younger)
    # its metrics cover.
    hour = timedelta(hours=1)
    before = sim.costs("instance", start=(report.waves[0].started_at - hour).timestamp(),
                       end=report.waves[0].started_at.timestamp())  # fmt: skip
    after_end = report.waves[-1].finished_at + hour
    after = sim.costs("instance", start=(after_end - hour).timestamp(), end=after_end.timestamp())
    billed_before = {g.key: g.amount for g in before.groups}
    billed_after = {g.key: g.amount for g in after.groups}
    uptime = {c.instance_id: c.uptime for c in kept}
    assert any(u < 0.8 for u in uptime.values())  # weekend-scheduled machines are among them
    planned_at = report.waves[0].started_at.timestamp()
    since = (sim.now() - planned_at) / 3600 + 14 * 24
    for iid, share in uptime.items():
        ran = [t for t in sim.metrics(iid, hours=since).timestamps if t > planned_at - 14 * 86400]
        lived = min(14 * 24, (planned_at - sim.get_instance(iid).launch_time) / 3600)  # a young machine
        assert share == pytest.approx(min(len(ran) / lived, 1.0), abs=0.01)
    measured = sum(
        (billed_before[o] - billed_after[r]) * uptime[o] * 730 for o, r in report.replacements.items()
    )
    assert report.measured_monthly_savings == pytest.approx(measured, abs=0.05)
    assert report.measured_monthly_savings == pytest.approx(report.monthly_savings, rel=0.05)  # spot drifts
    kinds = [e.kind for e in audit]
    assert (
        kinds.count("review") == 3
        and kinds.count("decision") == 1
        and kinds.count("change") == len(report.changed)
    )
    assert next(e for e in audit if e.kind == "decision").actor == "policy"


def _wave_sizes(n: int) -> list[int]:
    first = -(-n // 10)
    second = -(-n // 2) - first
    return [first, second, n - first - second]


def _thread(workflow_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": workflow_id}}


async def test_vetoed_instances_are_dropped_with_the_reason_and_the_rest_proceeds() -> None:
    # At night: the three machines stopped below load their peers, which by day saturates one service for
    # real (and rightly rolls the migration back), which is not what this test is about.
    sim = CloudSimulator(SEED, SIZE, clock=SimClock(datetime(2026, 6, 17, tzinfo=UTC)))
    cloud = cloud_of(sim)
    # What the recommender advises passes review; the reviewers veto what moved since it was planned.
    stopped = [c.instance_id for c in make_plan(cloud, "spot_migration", Scope(), AUTO).changes[:3]]

    def stop_some_once_planned(event: ProgressEvent) -> None:
        if isinstance(event, Planned):
            for iid in stopped:
                sim.stop(iid)

    async with open_rollouts("memory", cloud) as rollouts:
        run = await rollouts.start(
            "spot_migration", settings=AUTO, caller=OPS, on_progress=stop_some_once_planned
        )
    report = run.report
    assert report is not None
    vetoed = {iid for a in report.approvals for iid in a.vetoes}
    assert vetoed == set(stopped) and report.changed and not vetoed & set(report.changed)
    for iid in vetoed:
        assert (
            report.skipped[iid]
            == "vetoed by resource: no longer running as planned (stopped, replaced or resized since)"
        )
        assert (
            sim.get_instance(iid).pricing_model == "on-demand" and sim.get_instance(iid).replaced_by is None
        )


async def test_a_person_approves_and_is_recorded(db_url: str) -> None:
    sim = CloudSimulator(SEED, SIZE)
    async with open_rollouts(db_url, cloud_of(sim)) as rollouts:
        waiting = await rollouts.start(
            "rightsizing",
            settings=RolloutSettings(person_above_monthly_savings=1e9),
            caller=Caller("ci", "operator"),
        )
        assert waiting.status == "awaiting_approval" and waiting.pending is not None
        assert waiting.pending.why == ["auto-approve is off"] and len(waiting.pending.approvals) == 3
        assert not [e for e in sim.events() if e.kind in ("resized", "stopping")]  # nothing changed yet
        assert (await rollouts.status(waiting.workflow_id)).pending == waiting.pending
        done = await rollouts.decide(
            waiting.workflow_id, Decision(decision="approve", by="alice"), Caller("alice", "approver")
        )
        audit = await rollouts.audit(waiting.workflow_id)
    assert done.status == "completed" and done.report is not None and done.report.decided_by == "alice"
    assert sorted(done.report.changed) == sorted(waiting.pending.instance_ids)
    for iid in done.report.changed:
        inst = sim.get_instance(iid)
        assert inst.state == "running" and inst.instance_type != _type_before(audit, iid)
    decision = next(e for e in audit if e.kind == "decision")
    assert decision.actor == "alice" and decision.detail["decision"] == "approve"


def _type_before(audit: list[AuditEntry], iid: str) -> str:
    return str(next(e.detail["before"] for e in audit if e.kind == "change" and e.instance_id == iid))


async def test_a_person_rejects_and_nothing_changes() -> None:
    sim = CloudSimulator(SEED, SIZE)
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        waiting = await rollouts.start("spot_migration", caller=OPS)
        done = await rollouts.decide(
            waiting.workflow_id,
            Decision(decision="reject", by="bob", comment="not this week"),
            Caller("bob", "approver"),
        )
        with pytest.raises(NothingPendingError):
            await rollouts.decide(
                waiting.workflow_id, Decision(decision="approve", by="bob"), Caller("bob", "approver")
            )
    assert done.status == "rejected" and done.report is not None
    assert (
        done.report.changed == []
        and done.report.waves == []
        and done.report.reason == "rejected by bob: not this week"
    )
    assert not [e for e in sim.events() if e.kind == "launched"]


async def test_a_person_edits_the_plan_down_to_some_instances() -> None:
    sim = CloudSimulator(SEED, SIZE)
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        waiting = await rollouts.start("spot_migration", caller=OPS)
        assert waiting.pending is not None
        chosen = waiting.pending.instance_ids[:3]
        with pytest.raises(InvalidDecisionError, match="i-nope"):
            await rollouts.decide(
                waiting.workflow_id,
                Decision(decision="approve", by="carol", instance_ids=["i-nope"]),
                Caller("carol", "approver"),
            )
        done = await rollouts.decide(
            waiting.workflow_id,
            Decision(decision="approve", by="carol", instance_ids=chosen),
            Caller("carol", "approver"),
        )
    assert done.report is not None and sorted(done.report.changed) == sorted(chosen)
    left_out = set(waiting.pending.instance_ids) - set(chosen)
    assert all(done.report.skipped[i] == "left out by carol" for i in left_out)
    assert all(sim.get_instance(i).replaced_by is None for i in left_out)


async def test_policy_brings_a_person_in_for_large_savings_even_with_auto_approve() -> None:
    sim = CloudSimulator(SEED, SIZE)
    settings = RolloutSettings(auto_approve=True, person_above_monthly_savings=100.0)
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        waiting = await rollouts.start("spot_migration", settings=settings, caller=OPS)
    assert waiting.pending is not None and any("above the 100 limit" in why for why in waiting.pending.why)


async def test_degradation_rolls_back_every_change() -> None:
    sim = CloudSimulator(SEED, SIZE)

    def degrade_from_wave_two(event: ProgressEvent) -> None:
        if isinstance(event, WaveStarted) and event.number == 2:
            sim.set_faults({}, degradation=(1.3, 0.01))

    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rollouts.start(
            "spot_migration",
            settings=AUTO,
            on_progress=degrade_from_wave_two,
            caller=OPS,
        )
    report = run.report
    assert report is not None and report.status == "rolled_back" and report.changed == []
    assert len(report.waves) == 2 and report.waves[1].degraded and not report.waves[0].degraded
    assert set(report.rolled_back) <= set(report.approved)
    assert len(report.rolled_back) == sum(w.changed for w in report.waves)  # every change made, undone
    assert report.max_latency_change_pct > 5 and report.monthly_savings == 0 and report.success_rate == 0
    assert report.measured_monthly_savings == 0 and report.savings_measurement == "nothing was kept changed"
    for iid in report.rolled_back:  # back on on-demand, running, its spot replacement gone
        spot = sim.get_instance(sim.get_instance(iid).replaced_by or "")
        back = sim.get_instance(spot.replaced_by or "")
        assert back.pricing_model == "on-demand" and back.state == "running"
        assert back.instance_type == sim.get_instance(iid).instance_type
        assert spot.state in ("shutting-down", "terminated")


async def test_throttling_is_retried_and_the_rollout_completes() -> None:
    sim = CloudSimulator(SEED, SIZE)
    sim.set_faults({"migrate": FaultRule(throttle_rate=0.3)})
    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rollouts.start("spot_migration", settings=AUTO, caller=OPS)
    assert run.report is not None and run.report.status == "completed" and run.report.success_rate == 1.0
    assert len([e for e in sim.events() if e.kind == "launched"]) == len(run.report.changed)


async def test_capacity_errors_past_the_limit_roll_back_cleanly() -> None:
    sim = CloudSimulator(SEED, SIZE)
    sim.set_faults({"migrate": FaultRule(capacity_error_rate=0.8)})  # most calls fail even after retries

    def capacity_returns(event: ProgressEvent) -> None:
        if isinstance(event, RollbackStarted):
            sim.clear_faults()

    async with open_rollouts("memory", cloud_of(sim)) as rollouts:
        run = await rollouts.start(
            "spot_migration",
            settings=AUTO,
            on_progress=capacity_returns,
            caller=OPS,
        )
    report = run.report
    assert (
        report is not None and report.status == "rolled_back" and "too many changes failed" in report.reason
    )
    assert report.failed and report.success_rate < 1 and report.changed == [] and report.rolled_back
    assert all(why.startswith("CapacityError") for why in report.failed.values())
    launched = [i for i in sim.list_instances(state="running") if i.pricing_model == "spot" and i.replaces]
    assert not launched  # nothing the rollout launched is left running on spot


class NoCapacityForNewTypes(SimulatorProvider):
    """A cloud with no capacity left for the types a rollout resizes to: starting on them fails."""

    def __init__(self, sim: CloudSimulator, full: set[str]) -> None:
        super().__init__(sim)
        self.full = full

    def start(self, instance_id: str, idempotency_key: str) -> Instance:
        if self.get_instance(instance_id).instance_type in self.full:
            raise CapacityError(f"no capacity for {self.full}", provider=self.name)
        return super().start(instance_id, idempotency_key)


async def test_a_resize_that_cannot_start_again_is_restored_not_left_stopped() -> None:
    sim = CloudSimulator(SEED, SIZE)
    async with open_rollouts("memory", SimulatorProvider(sim)) as rollouts:
        waiting = await rollouts.start("rightsizing", caller=OPS)
        assert waiting.pending is not None
        plan = await rollouts.plan(waiting.workflow_id)
        assert plan is not None
        targets = {c.target for c in plan.changes if c.instance_id in waiting.pending.instance_ids}
        rollouts.cloud = NoCapacityForNewTypes(sim, targets)
        done = await rollouts.decide(
            waiting.workflow_id, Decision(decision="approve", by="erin"), Caller("erin", "approver")
        )
    report = done.report
    assert report is not None and report.status == "rolled_back" and report.changed == []
    assert set(report.failed) <= set(report.approved) and len(report.failed) == report.waves[0].instances
    for iid, why in report.failed.items():  # back on its own type and running: never left stopped
        assert why.startswith("CapacityError") and "restored to" in why
        inst = sim.get_instance(iid)
        assert inst.state == "running" and inst.instance_type not in targets


async def test_two_workflows_over_overlapping_scopes_never_share_an_instance(tmp_path: Path) -> None:
    sim = CloudSimulator(SEED, SIZE)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    async with open_rollouts(url, cloud_of(sim)) as rollouts:
        first = await rollouts.start(
            "spot_migration", caller=OPS
        )  # waits for a person: its instances stay claimed
        assert first.pending is not None
        aws_only = await rollouts.start("spot_migration", Scope(provider="aws"), caller=OPS)
        second_plan = aws_only.pending.instance_ids if aws_only.pending else []
        assert not set(second_plan) & set(first.pending.instance_ids)
        skipped = (await rollouts.plan(aws_only.workflow_id)).skipped  # type: ignore[union-attr]
        held = {i for i, why in skipped.items() if why == f"already in rollout {first.workflow_id}"}
        assert held and held <= set(first.pending.instance_ids)
        await rollouts.decide(
            first.workflow_id, Decision(decision="reject", by="dave"), Caller("dave", "approver")
        )
        third = await rollouts.start(
            "spot_migration", Scope(provider="aws"), caller=OPS
        )  # released: claimable again
    assert third.pending is not None and held <= set(third.pending.instance_ids) | _vetoed(third)


def _vetoed(run: RolloutRun) -> set[str]:
    return {i for a in (run.pending.approvals if run.pending else []) for i in a.vetoes}


async def test_checkpoints_grow_with_the_rollout_not_the_fleet(tmp_path: Path) -> None:
    """The same 20 changes in a fleet of 300 and of 3,000: checkpoint bytes stay within 10 %."""
    sizes = {}
    for size in (300, 3000):
        sim = CloudSimulator(SEED, size)
        path = tmp_path / f"{size}.db"
        settings = AUTO.model_copy(update={"max_changes": 20})
        async with open_rollouts(f"sqlite:///{path}", cloud_of(sim)) as rollouts:
            run = await rollouts.start("spot_migration", settings=settings, caller=OPS)
            assert run.report is not None and run.report.planned == 20
            db = rollouts.db
            sizes[size] = await _checkpoint_bytes(db)
    assert sizes[3000] < sizes[300] * 1.1, sizes


async def _checkpoint_bytes(db: Database) -> int:
    from sqlalchemy import text

    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT coalesce(sum(length(checkpoint)), 0)"
                " + (SELECT coalesce(sum(length(value)), 0) FROM writes) FROM checkpoints"
            )
        )
        return int(rows.scalar_one())


def test_the_graph_drawing_matches_its_snapshot() -> None:
    drawn = build_rollout_graph().compile().get_graph().draw_mermaid()
    if not SNAPSHOT.exists():  # first run writes it; review the diff like code
        SNAPSHOT.write_text(drawn)
    assert drawn == SNAPSHOT.read_text()


def test_database_urls_are_checked() -> None:
    assert DatabaseUrl.parse("sqlite:///x.db").sqlalchemy == "sqlite+aiosqlite:///x.db"
    assert DatabaseUrl.parse("postgresql://u@h/d").sqlalchemy == "postgresql+psycopg://u@h/d"
    with pytest.raises(ValueError, match="unsupported database URL"):
        DatabaseUrl.parse("mysql://u@h/d")


async def test_resume_finishes_a_run_stopped_between_its_verdict_and_its_report(tmp_path: Path) -> None:
    """The last monitor has decided `completed` but the report was never written (the process died):
    the workflow shows as `reporting`, and a resume writes the report instead of calling it done."""
    url = f"sqlite:///{tmp_path / 'rollouts.db'}"
    sim = CloudSimulator(SEED, SIZE)
    db = await Database.open(url)
    try:
        async with open_checkpointer(url, STATE_TYPES) as saver:
            dies_before_report = build_rollout_graph().compile(
                checkpointer=saver, interrupt_before=["report"]
            )
            run = await Rollouts(db, dies_before_report, cloud_of(sim)).start(
                "spot_migration", settings=AUTO, caller=OPS
            )
            assert run.status == "reporting" and run.report is None
            whole = Rollouts(db, build_rollout_graph().compile(checkpointer=saver), cloud_of(sim))
            done = await whole.resume(run.workflow_id)
            again = await whole.resume(run.workflow_id)  # finished: a resume changes nothing
    finally:
        await db.close()
    assert done.status == "completed" and done.report is not None and done.report.changed
    assert again.report == done.report


async def test_two_workflows_started_at_once_split_their_overlap(tmp_path: Path) -> None:
    """Both plan at the same moment over overlapping scopes against one cloud: every instance is claimed by
    exactly one of them, and none is changed twice."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    settings = RolloutSettings(auto_approve=True, person_above_monthly_savings=1e9)
    with serve_simulator(SEED, SIZE) as cloud_url:
        cloud = SimulatorHttpProvider(cloud_url)
        async with open_rollouts(url, cloud) as rollouts:
            everything, aws = await asyncio.gather(
                rollouts.start("spot_migration", Scope(), settings, caller=OPS),
                rollouts.start("spot_migration", Scope(provider="aws"), settings, caller=OPS),
            )
        launched = [e for e in httpx.get(f"{cloud_url}/events").json() if e["kind"] == "launched"]
    assert everything.report is not None and aws.report is not None
    first, second = set(everything.report.changed), set(aws.report.changed)
    assert first and second and not first & second
    assert len(launched) == len(first) + len(second)  # one replacement per changed instance, no more
    held_by_other = [
        why
        for report in (everything.report, aws.report)
        for why in report.skipped.values()
        if why.startswith("already in rollout")
    ]
    assert held_by_other  # they did overlap, and one of them stood back


async def test_a_resume_says_where_it_carries_the_workflow_on_from() -> None:
    async with open_rollouts("memory", cloud_of(CloudSimulator(7, 200))) as rollouts:
        workflow_id = await rollouts.register("spot_migration", caller=OPS)
        assert await rollouts.position(workflow_id) == "from the start (planning)"
        waiting = await rollouts.resume(workflow_id)
        assert waiting.pending is not None
        assert await rollouts.position(workflow_id) == "it waits for a decision"
        await rollouts.take_decision(
            workflow_id, Decision(decision="reject", by="bob"), Caller("bob", "approver")
        )
        assert (await rollouts.status(workflow_id)).status == "deciding"
        assert await rollouts.position(workflow_id) == "applying the decision taken"
        assert (await rollouts.resume(workflow_id)).status == "rejected"
        assert await rollouts.position(workflow_id) == "it has ended: nothing to resume"
