"""Chat as a person has it: questions answered from the tools, a migration started, approved or rejected and
followed up, follow-ups that say "them", small talk, and a model that answers badly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.routing import EmbeddedRouter
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import Chat, ChatError, open_chat
from graphs.supervisor.graph import MAX_HOPS, _next, build_supervisor_graph
from graphs.supervisor.models import ChatState
from mock_cloud import CloudSimulator
from tests.agents.scripted_model import HANG, ScriptedChatModel
from tests.conftest import cloud_of

SEED, SIZE = 7, 300
ME = Caller("me", "admin")


@pytest.fixture
def sim() -> CloudSimulator:
    return CloudSimulator(SEED, SIZE)


@pytest.fixture
async def chat(sim: CloudSimulator, embedded_router: EmbeddedRouter) -> AsyncIterator[Chat]:
    async with open_chat("memory", cloud_of(sim), router=embedded_router) as opened:
        yield opened


async def test_start_a_migration_hear_it_needs_approval_approve_and_ask_how_it_went(
    chat: Chat, sim: CloudSimulator
) -> None:
    started = await chat.turn("t1", "move the staging instances to spot", Caller("alice", "admin"))
    assert started.route.route == "spot_migration"
    assert started.route.params.environment == "staging"
    pending = started.pending_approval
    assert pending is not None and pending.kind == "spot_migration" and pending.instance_ids
    assert "need your approval" in started.reply
    # Nothing changes before the person says so.
    assert all(sim.get_instance(i).pricing_model == "on-demand" for i in pending.instance_ids)

    approved = await chat.turn("t1", "approve", Caller("alice", "admin"))
    assert approved.route.route == "approval"
    assert approved.pending_approval is None
    report = (await chat.context.rollouts.status(pending.workflow_id)).report
    assert report is not None and report.status == "completed" and report.decided_by == "alice"
    assert sorted(report.approved) == sorted(pending.instance_ids)
    for original in report.changed:
        assert sim.get_instance(report.replacements[original]).pricing_model == "spot"
    assert f"{report.monthly_savings:,.2f} USD" in approved.reply

    followed = await chat.turn("t1", "how did it go?", ME)
    assert followed.route.route == "status"
    assert (
        "completed" in followed.reply and f"{len(report.changed)} of {len(report.approved)}" in followed.reply
    )
    assert [e.route for e in await chat.history("t1")] == ["spot_migration", "approval", "status"]


async def test_a_rejected_rightsizing_changes_nothing_and_records_who(
    chat: Chat, sim: CloudSimulator
) -> None:
    started = await chat.turn("t2", "rightsize everything", Caller("bob", "admin"))
    pending = started.pending_approval
    assert pending is not None and pending.kind == "rightsizing"
    before = {i: sim.get_instance(i).instance_type for i in pending.instance_ids}

    rejected = await chat.turn("t2", "no, reject it", Caller("bob", "admin"))
    assert rejected.route.route == "approval" and "was rejected" in rejected.reply
    assert {i: sim.get_instance(i).instance_type for i in before} == before
    decisions = [e for e in await chat.context.rollouts.audit(pending.workflow_id) if e.kind == "decision"]
    assert [(d.actor, d.detail["decision"]) for d in decisions] == [("bob", "reject")]


async def test_approving_only_some_instances_changes_only_those(chat: Chat) -> None:
    pending = (await chat.turn("t3", "migrate the development machines to spot", ME)).pending_approval
    assert pending is not None and len(pending.instance_ids) >= 2
    chosen = pending.instance_ids[0]
    await chat.turn("t3", f"approve only {chosen}", ME)
    report = (await chat.context.rollouts.status(pending.workflow_id)).report
    assert report is not None and report.approved == [chosen]


async def test_an_upsize_order_plans_the_cost_and_a_person_approves_it(
    chat: Chat, sim: CloudSimulator
) -> None:
    started = await chat.turn("t10", "upsize the overloaded machines", ME)
    pending = started.pending_approval
    assert pending is not None and pending.kind == "upsize" and pending.instance_ids
    assert pending.monthly_savings < 0  # a cost, never counted as savings
    assert f"{-pending.monthly_savings:,.2f} USD/month more" in started.reply
    before = {i: sim.get_instance(i).vcpus for i in pending.instance_ids}
    approved = await chat.turn("t10", "approve", ME)
    report = (await chat.context.rollouts.status(pending.workflow_id)).report
    assert report is not None and report.status == "completed" and report.changed, approved.reply
    assert all(sim.get_instance(i).vcpus > before[i] for i in report.changed)


async def test_an_order_to_stop_the_idle_machines_plans_an_idle_stop_in_its_scope(
    chat: Chat, sim: CloudSimulator
) -> None:
    started = await chat.turn("t11", "stop the idle development machines", ME)
    pending = started.pending_approval
    assert pending is not None and pending.kind == "idle_stop" and pending.instance_ids
    assert all(sim.get_instance(i).tags["environment"] == "development" for i in pending.instance_ids)
    assert all(sim.get_instance(i).state == "running" for i in pending.instance_ids)
    await chat.turn("t11", "approve", ME)
    report = (await chat.context.rollouts.status(pending.workflow_id)).report
    assert report is not None and report.changed
    assert all(sim.get_instance(i).state in ("stopping", "stopped") for i in report.changed)


async def test_stopping_the_dev_machines_at_night_plans_their_schedules(
    chat: Chat, sim: CloudSimulator
) -> None:
    asked = await chat.turn("t13", "which dev machines are idle at night?", ME)
    assert asked.route.route == "resource" and not await chat.context.rollouts.store.runs()
    ordered = await chat.turn("t13", "stop the dev machines at night", ME)
    pending = ordered.pending_approval
    assert (
        pending is not None
        and pending.kind == "off_hours"
        and len(pending.instance_ids) == asked.facts["off_hours"]
    )
    assert all(sim.get_instance(i).tags["environment"] == "development" for i in pending.instance_ids)
    assert "off 20:00-07:00 and at weekends on its team's clock" in ordered.reply


async def test_questions_about_upsizing_and_other_power_orders_start_nothing(chat: Chat) -> None:
    asked = await chat.turn("t12", "which machines need a bigger type?", ME)
    assert asked.route.route == "performance" and asked.pending_approval is None
    nightly = await chat.turn("t12", "resize the idle machines every night", ME)
    assert nightly.reply.startswith("I can't schedule other changes for a set time")
    reboot = await chat.turn("t12", "reboot the idle machines", ME)
    assert reboot.reply.startswith("I can't stop, start, reboot or terminate machines one by one")
    assert not await chat.context.rollouts.store.runs()


async def test_them_means_the_whole_set_the_last_answer_counted(chat: Chat) -> None:
    listed = await chat.turn("t4", "which instances could run on spot?", ME)
    assert listed.route.route == "resource" and not await chat.context.rollouts.store.runs()
    counted = listed.data["instance_ids"]
    assert len(counted) == listed.facts["spot_candidates"] and len(counted) > 10  # more than the ten listed
    assert f"and {len(counted) - 10} more." in listed.reply
    moved = await chat.turn("t4", "move them to spot", ME)
    assert f"for the {len(counted)} instances from my last answer" in moved.reply
    workflow_id = (await chat.context.rollouts.store.runs())[-1].workflow_id
    stored = await chat.context.rollouts.stored(workflow_id)
    assert stored.scope["instance_ids"] == counted


async def test_questions_are_answered_from_the_tools(chat: Chat, sim: CloudSimulator) -> None:
    spend = await chat.turn("t5", "what did we spend over the last 30 days?", ME)
    assert spend.route.route == "cost" and spend.data["tools"] == ["current_time", "get_costs"]
    assert f"{spend.data['costs']['total']:,.2f} USD" in spend.reply

    one = next(i for i in sim.list_instances() if i.state == "running")
    described = await chat.turn("t5", f"describe {one.id}", ME)
    assert described.route.route == "resource" and one.instance_type in described.reply

    unknown = await chat.turn("t5", "what's the cpu usage of i-0fffffffffffffff0?", ME)
    assert unknown.route.route == "performance"
    assert unknown.reply.startswith("I could not answer that") and "i-0fffffffffffffff0" in unknown.reply


async def test_off_topic_requests_get_a_polite_answer_and_touch_no_tool(chat: Chat) -> None:
    for text in ("what's the capital of France?", "tell me a joke", "hello"):
        turn = await chat.turn("t6", text, ME)
        assert turn.route.route == "general"
        assert turn.data == {} and turn.pending_approval is None
        assert "I can answer questions about your cloud" in turn.reply


async def test_approving_with_nothing_pending_lists_what_waits_elsewhere(chat: Chat) -> None:
    waiting = (await chat.turn("t7", "move the staging instances to spot", ME)).pending_approval
    assert waiting is not None
    turn = await chat.turn("t8", "approve", ME)  # another conversation: nothing of its own to approve
    assert turn.route.route == "approval"
    assert turn.reply.startswith("There is no rollout waiting in this conversation.")
    assert waiting.workflow_id in turn.reply
    # Still waiting: an approval in one conversation never decides another's workflow.
    assert (await chat.context.rollouts.status(waiting.workflow_id)).pending is not None


def test_a_turn_answers_once_its_hops_are_spent() -> None:
    state: ChatState = {"message": "approve", "hops": MAX_HOPS}
    assert _next(state, "status", {}).goto == "respond"
    state["hops"] = 1
    assert _next(state, "status", {}).goto == "status"


async def test_empty_or_huge_messages_are_refused_with_the_reason(chat: Chat) -> None:
    with pytest.raises(ChatError, match="empty"):
        await chat.turn("t9", "   ", ME)
    with pytest.raises(ChatError, match="at most 4000"):
        await chat.turn("t9", "x" * 4001, ME)


async def test_a_conversation_outlives_its_process(tmp_path: Path, embedded_router: EmbeddedRouter) -> None:
    db = f"sqlite:///{tmp_path / 'chat.db'}"
    async with open_chat(db, cloud_of(CloudSimulator(SEED, SIZE)), router=embedded_router) as first:
        pending = (await first.turn("t10", "move the staging instances to spot", ME)).pending_approval
    assert pending is not None
    # A new process: a new simulator from the same seed, the conversation and its workflow from the file.
    async with open_chat(db, cloud_of(CloudSimulator(SEED, SIZE)), router=embedded_router) as second:
        turn = await second.turn("t10", "yes, go ahead", ME)
        assert "completed" in turn.reply
        assert [e.route for e in await second.history("t10")] == ["spot_migration", "approval"]


async def test_a_good_model_routes_and_writes_the_narrative_in_two_calls(
    sim: CloudSimulator, embedded_router: EmbeddedRouter
) -> None:
    async with open_chat("memory", cloud_of(sim), router=embedded_router) as plain:
        template = await plain.turn("m1", "what did we spend over the last 30 days?", ME)
    total = f"{template.data['costs']['total']:,.2f}"
    narrative = f"Across the whole fleet, over the last 30 days you spent {total} USD."
    model = ScriptedChatModel(replies=['{"route": "cost"}', narrative])
    async with open_chat("memory", cloud_of(sim), model, router=embedded_router) as chat:
        turn = await chat.turn("m1", "what did we spend over the last 30 days?", ME)
    assert (turn.route.route, turn.route.source) == ("cost", "ollama")
    assert turn.reply == narrative
    assert turn.model_calls == 2


@pytest.mark.parametrize(
    ("route_reply", "narrative_reply"),
    [
        ("I'd say cost!", "You spent 123,456,789.00 USD."),  # garbage, then a made-up number
        ("", ""),  # nothing at all
        (HANG, HANG),  # never answers
    ],
    ids=["garbage", "empty", "timeout"],
)
async def test_a_bad_model_never_breaks_a_turn(
    sim: CloudSimulator, embedded_router: EmbeddedRouter, route_reply: str, narrative_reply: str
) -> None:
    async with open_chat("memory", cloud_of(sim), router=embedded_router) as plain:
        expected = await plain.turn("m2", "what did we spend over the last 30 days?", ME)
    model = ScriptedChatModel(replies=[route_reply, narrative_reply])
    async with open_chat("memory", cloud_of(sim), model, router=embedded_router, model_timeout=0.05) as chat:
        turn = await chat.turn("m2", "what did we spend over the last 30 days?", ME)
    assert (turn.route.route, turn.route.source) == ("cost", "embedded")
    assert turn.reply == expected.reply  # the template, grounded by construction
    assert turn.model_calls == 2


async def test_small_talk_and_rollouts_cost_one_model_call(
    sim: CloudSimulator, embedded_router: EmbeddedRouter
) -> None:
    model = ScriptedChatModel(replies=['{"route": "general"}', '{"route": "spot_migration"}'])
    async with open_chat("memory", cloud_of(sim), model, router=embedded_router) as chat:
        assert (await chat.turn("m3", "hello", ME)).model_calls == 1
        started = await chat.turn("m3", "move the staging instances to spot", ME)
    assert started.model_calls == 1 and started.pending_approval is not None


def test_the_graph_drawing_matches_its_snapshot() -> None:
    drawn = build_supervisor_graph().compile().get_graph().draw_mermaid()
    snapshot = Path(__file__).parent / "supervisor_graph.mmd"
    if not snapshot.exists():  # first run writes it; review the diff like code
        snapshot.write_text(drawn)
    assert drawn == snapshot.read_text()
