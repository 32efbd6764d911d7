"""Approvals that reach people: a plan over the policy's limit needs two approvers, one an admin, and only
the approvals that can count are taken; the audit shows each approver; deadlines on the cloud's clock warn,
escalate and finally expire the request with nothing changed — each said once, to the channels wanting it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graphs.rollout.approvals import ApprovalLevel, ApprovalNeeds, ApprovalPolicy, ApprovalRule
from graphs.rollout.authority import Caller, NotPermittedError
from graphs.rollout.deadlines import watch_deadlines
from graphs.rollout.models import Decision, RolloutSettings
from graphs.rollout.store import SignOff
from graphs.rollout.workflow import ApprovedAlreadyError, DecisionTakenError, open_rollouts
from mock_cloud import CloudSimulator
from tests.conftest import cloud_of
from tests.receivers import http_receiver
from tools.channels.subscription import Channel
from tools.channels.webhook import WebhookTarget

OPS = Caller("ops", "operator")
ALICE, BOB, CAROL = Caller("alice", "approver"), Caller("bob", "approver"), Caller("carol", "admin")
TWO_WITH_AN_ADMIN = ApprovalPolicy(rules=(ApprovalRule(monthly_usd=1_000, approvers=2, admins=1),))


def _signed(*who: tuple[str, str]) -> list[SignOff]:
    return [SignOff(by=name, role=role, at=datetime.now(UTC)) for name, role in who]


def test_the_policy_asks_the_most_any_rule_asks_and_says_what_is_missing() -> None:
    policy = ApprovalPolicy(
        rules=(
            ApprovalRule(monthly_usd=10_000, approvers=2, admins=1),
            ApprovalRule(risk="high", approvers=3),
        )
    )
    assert policy.needs(9_999, "medium") == ApprovalNeeds()
    assert policy.needs(-12_000, "low").approvers == 2  # a plan that costs that much counts too
    both = policy.needs(25_000, "high")
    assert (both.approvers, both.admins, len(both.because)) == (3, 1, 2)
    needs = ApprovalNeeds(approvers=2, admins=1)
    assert needs.missing([]) == "2 more approvals, 1 of them from admins"
    assert needs.missing(_signed(("alice", "approver"))) == "1 more approval from an admin"
    assert needs.missing(_signed(("carol", "admin"))) == "1 more approval"
    assert needs.missing(_signed(("carol", "admin"), ("alice", "approver"))) is None
    bob = _signed(("bob", "approver"))[0]
    assert "must come from an admin" in (needs.refusal(bob, _signed(("alice", "approver"))) or "")
    assert needs.refusal(bob, _signed(("carol", "admin"))) is None
    assert "approved already" in (needs.refusal(bob, [bob]) or "")
    with pytest.raises(ValueError, match="at most as many"):
        ApprovalRule(monthly_usd=1, approvers=1, admins=2)
    by_default = ApprovalPolicy().deadlines(datetime(2026, 6, 17, tzinfo=UTC))
    assert [(d.role, d.at.isoformat()) for d in by_default] == [
        ("approver", "2026-06-18T00:00:00+00:00"),
        ("admin", "2026-06-20T00:00:00+00:00"),
    ]


async def test_a_large_plan_needs_two_approvers_one_an_admin_and_the_audit_shows_both() -> None:
    sim = CloudSimulator(7, 300)
    settings = RolloutSettings(max_changes=6, approval=TWO_WITH_AN_ADMIN)
    with http_receiver() as receiver:
        async with open_rollouts("memory", cloud_of(sim)) as rollouts:
            await rollouts.notifier.store.add(
                Channel(name="ops", target=WebhookTarget(url=receiver.url),
                        events=["approval_requested", "rollout_completed"]), "admin"
            )  # fmt: skip
            run = await rollouts.start("spot_migration", settings=settings, caller=OPS)
            wf, pending = run.workflow_id, run.pending
            assert pending is not None and (pending.needs.approvers, pending.needs.admins) == (2, 1)
            assert receiver.events() == ["approval_requested"]
            assert "2 approvers, 1 of them admin(s)" in receiver.posts[0].json()["text"]

            some = pending.instance_ids[:4]
            first = Decision(decision="approve", by="alice", instance_ids=some, comment="the first four")
            assert await rollouts.take_decision(wf, first, ALICE) is None  # recorded, not yet enough
            waiting = await rollouts.status(wf)
            assert waiting.status == "awaiting_approval" and [s.by for s in waiting.signoffs] == ["alice"]
            assert waiting.waiting_for == "1 more approval from an admin"
            with pytest.raises(NotPermittedError, match="remaining approval must come from an admin"):
                await rollouts.decide(wf, Decision(decision="approve", by="bob"), BOB)
            with pytest.raises(ApprovedAlreadyError, match="alice has approved already"):
                await rollouts.decide(wf, Decision(decision="approve", by="alice"), ALICE)

            done = await rollouts.decide(wf, Decision(decision="approve", by="carol"), CAROL)
            report = done.report
            assert report is not None and report.status == "completed"
            assert report.approved == some  # what every approver approved
            assert report.decided_by == "alice and carol"
            audit = await rollouts.audit(wf)
        decisions = [(e.key, e.actor) for e in audit if e.kind == "decision"]
        assert decisions == [
            ("approval/alice", "alice"),
            ("approval/carol", "carol"),
            ("decision", "alice and carol"),
        ]
        final = next(e for e in audit if e.key == "decision")
        assert final.detail["approvers"] == ["alice", "carol"] and final.detail["approved"] == some
        assert receiver.events() == ["approval_requested", "rollout_completed"]


async def test_a_rejection_needs_one_approver_whatever_the_plan_needs() -> None:
    async with open_rollouts("memory", cloud_of(CloudSimulator(7, 300))) as rollouts:
        settings = RolloutSettings(max_changes=3, approval=TWO_WITH_AN_ADMIN)
        run = await rollouts.start("spot_migration", settings=settings, caller=OPS)
        await rollouts.take_decision(run.workflow_id, Decision(decision="approve", by="carol"), CAROL)
        ended = await rollouts.decide(run.workflow_id, Decision(decision="reject", by="bob"), BOB)
        assert ended.status == "rejected" and ended.report is not None and ended.report.decided_by == "bob"


async def test_deadlines_warn_escalate_and_expire_once_with_nothing_changed() -> None:
    sim = CloudSimulator(7, 300)
    cloud = cloud_of(sim)
    policy = ApprovalPolicy(
        levels=(ApprovalLevel(role="approver", hours=2), ApprovalLevel(role="admin", hours=3)), warn_hours=1
    )
    hour = 3600.0
    with http_receiver() as receiver:
        async with open_rollouts("memory", cloud) as rollouts:
            await rollouts.notifier.store.add(
                Channel(name="all", target=WebhookTarget(url=receiver.url)), "a"
            )
            run = await rollouts.start(
                "spot_migration", settings=RolloutSettings(max_changes=4, approval=policy), caller=OPS
            )
            wf, request = run.workflow_id, run.pending
            assert request is not None and request.requested_at is not None
            waits = [d.at - request.requested_at for d in request.deadlines]
            assert waits == [timedelta(hours=2), timedelta(hours=5)]
            seen = []
            steps: list[tuple[float, list[str]]] = [
                (0.5 * hour, []),
                (1.0 * hour, ["approval_deadline_near"]),
                (0.2 * hour, []),
                (1.0 * hour, ["approval_escalated"]),
                (1.5 * hour, ["approval_deadline_near"]),
                (1.0 * hour, ["expired"]),
            ]
            for advance, expected in steps:
                sim.advance(advance)
                found = await watch_deadlines(rollouts, cloud.now())
                assert [e.event for e in found] == expected
                assert await watch_deadlines(rollouts, cloud.now()) == []  # said once
                seen += found
            assert [(e.event, e.role) for e in seen] == [
                ("approval_deadline_near", "approver"), ("approval_escalated", "admin"),
                ("approval_deadline_near", "admin"), ("expired", "admin"),
            ]  # fmt: skip
            with pytest.raises(DecisionTakenError, match="decided already: expire by optiinfra"):
                await rollouts.decide(wf, Decision(decision="approve", by="carol"), CAROL)
            ended = await rollouts.resume(wf)
            audit = await rollouts.audit(wf)
        report = ended.report
        assert ended.status == "expired" and report is not None and report.changed == []
        assert report.reason.startswith("no decision by") and report.reason.endswith("nothing was changed")
        assert not [e for e in sim.events() if e.kind == "launched"]  # the cloud was not touched
        assert [e.key for e in audit if e.kind == "status"][:3] == ["deadline_near/1", "escalated/2",
                                                                    "deadline_near/2"]  # fmt: skip
        assert receiver.events() == ["approval_requested", "approval_deadline_near", "approval_escalated",
                                     "approval_deadline_near", "rollout_expired"]  # fmt: skip
        escalated = receiver.posts[2].json()
        assert escalated["severity"] == "critical" and "now with the admins" in escalated["text"]
