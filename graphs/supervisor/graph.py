"""The supervisor graph: understand → one worker (a specialist, a rollout, an approval, a status, small talk)
→ respond. One thread per conversation, checkpointed, so a conversation survives its process.

A worker may hand the turn to another worker (an approval with no workflow in the conversation hands over to
`status`, which lists what waits); every hop counts, and past `MAX_HOPS` the turn answers with what it has.
A turn can therefore not loop, whatever the router or a model says.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.answers import answer
from agents.answers.base import Focus, Question
from agents.answers.scope import instance_scope, scope_label
from agents.capabilities import beyond_reach
from agents.narrative import Narrator
from agents.routing import SPECIALISTS, Route, RouteName, RouteParams, Router
from agents.routing.cues import (
    asks,
    asks_off_hours,
    orders_off_hours,
    orders_resize,
    orders_storage_change,
    stops_idle,
)
from agents.routing.params import extract_params
from graphs.rollout.authority import Caller, NotPermittedError
from graphs.rollout.events import Progress
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import Decision, RolloutSettings, Scope
from graphs.rollout.report import report_text
from graphs.rollout.workflow import RolloutError, RolloutRun, Rollouts
from graphs.supervisor.budget_orders import budget_order, orders_budget
from graphs.supervisor.budgets import BUDGET_WORDS, budget_answer
from graphs.supervisor.models import ChatInput, ChatOutput, ChatState, Exchange, PendingApproval, Reply
from tools.analysis.kinds import RESOURCE_OF, plural
from tools.analysis.off_hours import OffHoursSchedule
from tools.errors import ProviderError
from tools.provider import CloudProvider
from tools.toolkit import Toolkit

MAX_HOPS = 3
Worker = Literal["cost", "performance", "resource", "application", "rollout", "approval", "status", "general"]
WORKERS: tuple[Worker, ...] = get_args(Worker)
# Both kinds of change are one worker; every other route is a worker of its own name.
_WORKER: dict[RouteName, Worker] = {
    "cost": "cost", "performance": "performance", "resource": "resource", "application": "application",
    "spot_migration": "rollout", "rightsizing": "rollout", "approval": "approval", "status": "status",
    "general": "general",
}  # fmt: skip
# The specialist that answers a question about a change (spot: the resource agent's ledger view).
_AGENT_FOR_FOCUS: dict[Focus, Worker] = {
    "spot": "resource",
    "downsize": "performance",
    "upsize": "performance",
    "budgets": "cost",
    "set_budget": "cost",
    "off_hours": "resource",
}
# Words that point back at something said earlier in the conversation.
_BACK = re.compile(r"\b(?:it|its|them|they|their|those|these|that|this|same)\b", re.IGNORECASE)


@dataclass
class SupervisorContext:
    router: Router
    toolkit: Toolkit
    rollouts: Rollouts
    # Who is talking this turn: what they may start or decide is the domain's rule (graphs.rollout.authority).
    caller: Caller = Caller("chat", "viewer")
    narrator: Narrator | None = None
    cloud_url: str | None = None  # remembered by the workflows chat starts, for `optiinfra workflow …`
    on_progress: Progress | None = None
    # Held while a turn drives a workflow: the service's lease, so no other replica adopts it meanwhile.
    hold: Callable[[str], AbstractAsyncContextManager[None]] = field(default=lambda _: nullcontext())


def resolve(route: Route, text: str, state: ChatState) -> Route:
    """The route with what the request leaves to the conversation filled in from it."""
    params, found = route.params, dict[str, Any]()
    if route.route in ("approval", "status"):
        if params.workflow_id is None and state.get("workflow_id"):
            found["workflow_id"] = state["workflow_id"]
    elif _BACK.search(text) and route.route != "general":
        if not params.instance_ids and state.get("instance_ids"):
            found["instance_ids"] = state["instance_ids"]
        if not params.application and state.get("application"):
            found["application"] = state["application"]
    return route.model_copy(update={"params": params.model_copy(update=found)}) if found else route


async def understand(state: ChatState, runtime: Runtime[SupervisorContext]) -> Command[Worker]:
    text = state["message"]
    route = resolve(await runtime.context.router.aroute(text), text, state)
    calls = 1 if runtime.context.router.uses_model else 0
    update: dict[str, Any] = {"route": route, "hops": 1, "reply": None, "pending": None, "model_calls": calls,
                              "focus": None, "note": None, "kind": None}  # fmt: skip
    worker = _WORKER[route.route]
    # Stopping the idle machines is a rollout of its own (reviewed, in waves, undone by starting them); any
    # other limit it meets ("… every night": a schedule) still stands.
    idle_stop = stops_idle(text)
    # So are the storage cleanups ("delete the unattached volumes"): a person approves every deletion.
    storage_change = orders_storage_change(text)
    if orders_budget(text) and worker not in ("approval", "status"):  # "set a budget of 20k for ml"
        return Command(goto=_AGENT_FOR_FOCUS["set_budget"], update=update | {"focus": "set_budget"})
    # Machines stopped while their team is away: schedules the service keeps, planned as a rollout ("stop the
    # dev machines at night"), or the machines they would stop and what that saves ("idle at night?").
    if worker not in ("approval", "status") and beyond_reach(text, frozenset({"power", "schedules"})) is None:
        if orders_off_hours(text):
            return Command(goto="rollout", update=update | {"kind": "off_hours"})
        if asks_off_hours(text):
            return Command(goto=_AGENT_FOR_FOCUS["off_hours"], update=update | {"focus": "off_hours"})
    ordered = idle_stop or storage_change is not None
    refusal = beyond_reach(text, allowed=frozenset({"power"}) if ordered else frozenset())
    if idle_stop and refusal is None:
        return Command(goto="rollout", update=update | {"kind": "idle_stop"})
    if storage_change is not None and refusal is None:
        return Command(goto="rollout", update=update | {"kind": storage_change})
    if refusal is not None and worker not in ("approval", "status"):  # deciding and following are ours
        return Command(goto="general", update=update | {"note": refusal.text})
    if BUDGET_WORDS.search(text) and worker not in ("approval", "status"):  # how each budget stands
        return Command(goto=_AGENT_FOR_FOCUS["budgets"], update=update | {"focus": "budgets"})
    upsize = route.route in ("spot_migration", "rightsizing", "performance") and route.params.resize == "up"
    if upsize and not asks(text) and orders_resize(text):
        worker = "rollout"  # "upsize the overloaded machines": sizing words, but an order
    focus: Focus | None = None
    if upsize and (worker != "rollout" or asks(text)):
        focus = "upsize"
    elif worker == "rollout" and asks(text):
        # A question about what could change is answered with the opportunities; only an order starts one.
        focus = "spot" if route.route == "spot_migration" else "downsize"
    if focus is not None:
        return Command(goto=_AGENT_FOR_FOCUS[focus], update=update | {"focus": focus})
    if worker == "rollout":
        update["kind"] = "upsize" if upsize else route.route
    return Command(goto=worker, update=update)


def _next(state: ChatState, worker: Worker, update: dict[str, Any]) -> Command[Any]:
    """Go on to `worker`, or answer now when the turn has taken its last hop."""
    hops = state.get("hops", 0) + 1
    if hops > MAX_HOPS:
        return Command(goto="respond", update=update)
    return Command(goto=worker, update={**update, "hops": hops})


async def specialist(state: ChatState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    route, focus = state["route"], state.get("focus")
    agent = _AGENT_FOR_FOCUS[focus] if focus else route.route
    question = Question(text=state["message"], params=route.params, focus=focus)
    rollouts = runtime.context.rollouts
    if focus == "budgets" and rollouts.cloud is not None:
        found = await budget_answer(state["message"], rollouts.db, rollouts.cloud)
    elif focus == "set_budget" and rollouts.cloud is not None:
        found = await budget_order(state["message"], route.params, rollouts, runtime.context.caller)
    else:
        found = await answer(agent, question, runtime.context.toolkit)
    data = found.data | {"tools": found.tools}
    update: dict[str, Any] = {}
    if found.instance_ids:  # what "them" will mean next turn: the whole set counted, not the rows shown
        data["instance_ids"] = update["instance_ids"] = found.instance_ids
    text = f"{note}\n{found.text}" if (note := state.get("note")) else found.text
    update["reply"] = Reply(
        agent=found.agent, text=text, facts=found.facts, data=data, key=found.key, scope=found.scope
    )
    if found.application:
        update["application"] = found.application
    return update


async def rollout(state: ChatState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    ctx, route = runtime.context, state["route"]
    params, spec = route.params, kind_of(state.get("kind") or route.route)
    kind = spec.name
    scope = Scope(**instance_scope(params), instance_ids=params.instance_ids)
    # "migrate them": the whole set the previous answer counted, which the reply says it acted on.
    earlier = bool(params.instance_ids) and not extract_params(state["message"]).instance_ids
    if kind == "rightsizing" and params.instance_type and ctx.rollouts.cloud is not None:
        unsold = await asyncio.to_thread(_not_sold, ctx.rollouts.cloud, params)
        if unsold:
            return {"reply": Reply(agent="rollout", text=f"I could not start the rightsizing: {unsold}.")}
    try:
        workflow_id = await ctx.rollouts.register(
            kind,
            scope,
            RolloutSettings(),  # a person approves every change started from chat
            caller=ctx.caller,
            cloud_url=ctx.cloud_url,
        )
        async with ctx.hold(workflow_id):
            run = await ctx.rollouts.resume(workflow_id, ctx.on_progress)
    except (RolloutError, NotPermittedError) as exc:
        return {"reply": Reply(agent="rollout", text=f"I could not start the {spec.title}: {exc}")}
    plan = await ctx.rollouts.plan(run.workflow_id)
    lines = []
    if plan is not None:
        named = scope_label(params) or "the whole fleet"
        scope_words = (
            f" for the {len(scope.instance_ids)} instances from my last answer" if earlier else f" ({named})"
        )
        # An upsize spends: its plan's figure is what the larger types cost, never counted as savings.
        changes = "changes" if spec.spends else "money-saving changes"
        lines.append(
            f"I planned {_article(spec.title)} {spec.title}{scope_words}: {len(plan.changes)} {changes} "
            f"among {plan.instances_analyzed} {plural(RESOURCE_OF[spec.recommendation])} analysed, "
            f"{spec.monthly(plan.monthly_savings)} "
            f"(workflow {run.workflow_id})."
        )
        for iid, why in list(plan.skipped.items())[:5]:
            lines.append(f"  {iid} is left out: {why}.")
        if kind == "off_hours" and plan.changes:  # which hours: the same for every team, on its own clock
            schedules = [OffHoursSchedule.parse(c.target) for c in plan.changes]
            hours, zones = {s.hours for s in schedules}, sorted({s.time_zone for s in schedules})
            lines.append(f"  Each is {' or '.join(sorted(hours))} on its team's clock ({', '.join(zones)}); "
                         "I stop and start them on time.")  # fmt: skip
        if params.instance_type and kind == "rightsizing":
            targets = {c.instance_id: c.target for c in plan.changes}
            for iid in params.instance_ids:
                if iid in targets and targets[iid] != params.instance_type:
                    lines.append(
                        f"  You asked for {params.instance_type} for {iid}; the analysis sizes it to "
                        f"{targets[iid]} (its P95 load with 20% headroom), and that is what is planned."
                    )
    pending = run.pending
    reviews = pending.approvals if pending else run.report.approvals if run.report else []
    planned = len(plan.changes) if plan else 0
    for a in reviews:
        if a.vetoes:
            example = next(iter(a.vetoes.values()))
            lines.append(f"  The {a.agent} agent vetoes {len(a.vetoes)} of {planned} (e.g. {example}).")
        else:
            lines.append(f"  The {a.agent} agent approves all {planned} (confidence {a.confidence:.2f}).")
    if pending is not None:
        lines.append(
            f"{len(pending.instance_ids)} changes need your approval: "
            f"{spec.monthly(pending.monthly_savings)}, {pending.risk} risk. "
            'Say "approve", "approve only <ids>" or "reject".'
        )
    elif run.report is not None:
        lines.append(report_text(run.report))
    facts = {"planned": run.planned or 0, "analysed": plan.instances_analyzed if plan else 0}
    data: dict[str, Any] = {"workflow": run.model_dump(mode="json", exclude={"report"})}
    ids = pending.instance_ids if pending else []
    return {
        "reply": Reply(agent="rollout", text="\n".join(lines), facts=facts, data=data),
        "workflow_id": run.workflow_id,
        "instance_ids": ids or state.get("instance_ids", []),
    }


def _article(title: str) -> str:
    return "an" if title[:1] in "aeiou" else "a"


def _not_sold(cloud: CloudProvider, params: RouteParams) -> str | None:
    """Why the instance type a request names cannot be what its instances become, or None when it can."""
    where = {(params.provider or "aws", params.region)}
    try:
        where = {(i.provider, i.region) for i in map(cloud.get_instance, params.instance_ids)} or where
        for provider, region in sorted(where, key=str):
            if params.instance_type not in {o.name for o in cloud.instance_types(provider, region)}:
                sold_in = f"{provider} {region}" if region else provider
                return f"{params.instance_type} is not an instance type sold in {sold_in}"
    except ProviderError as exc:
        return exc.message
    return None


async def approval(state: ChatState, runtime: Runtime[SupervisorContext]) -> Command[Any]:
    ctx, params = runtime.context, state["route"].params
    if params.workflow_id is None:
        intro = "There is no rollout waiting in this conversation. "
        return _next(state, "status", {"reply": Reply(agent="approval", text=intro)})
    if params.decision is None:
        text = f'Do you approve workflow {params.workflow_id}? Say "approve" or "reject".'
        return Command(goto="respond", update={"reply": Reply(agent="approval", text=text)})
    only = (params.instance_ids or None) if params.decision == "approve" else None
    decision = Decision(
        decision=params.decision, by=ctx.caller.name, instance_ids=only, comment=state["message"][:2000]
    )
    try:
        # Refused before the lease is taken: a caller who may not decide holds nothing up.
        await ctx.rollouts.check_decision(params.workflow_id, decision, ctx.caller)
        async with ctx.hold(params.workflow_id):
            run = await ctx.rollouts.decide(params.workflow_id, decision, ctx.caller, ctx.on_progress)
    except (RolloutError, NotPermittedError) as exc:
        return Command(goto="respond", update={"reply": Reply(agent="approval", text=str(exc))})
    return Command(
        goto="respond",
        update={"reply": _run_reply("approval", run), "workflow_id": run.workflow_id},
    )


def _run_reply(agent: str, run: RolloutRun) -> Reply:
    data = {"workflow": run.model_dump(mode="json")}
    if run.report is not None:
        r = run.report
        facts = {"changed": len(r.changed), "approved": len(r.approved), "monthly_usd": r.monthly_savings,
                 "waves": len(r.waves), "rolled_back": len(r.rolled_back)}  # fmt: skip
        return Reply(agent=agent, text=report_text(r), facts=facts, data=data)
    if run.pending is not None:
        p = run.pending
        text = (
            f"Workflow {run.workflow_id} ({kind_of(run.kind).title}) is waiting for your approval of "
            f"{len(p.instance_ids)} changes, {kind_of(run.kind).monthly(p.monthly_savings)}, {p.risk} risk."
        )
        if run.signoffs:
            text += (
                f" Approved so far by {', '.join(s.by for s in run.signoffs)}; it needs {run.waiting_for}."
            )
        elif p.needs.approvers > 1:
            text += f" It needs {run.waiting_for} ({'; '.join(p.needs.because)})."
        return Reply(agent=agent, text=text, data=data)
    text = f"Workflow {run.workflow_id} ({kind_of(run.kind).title}) is {run.status.replace('_', ' ')}"
    return Reply(agent=agent, text=f"{text}, {run.waves_done} wave(s) done.", data=data)


async def status(state: ChatState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    ctx, params = runtime.context, state["route"].params
    before = state.get("reply")
    intro = before.text if before is not None else ""
    if params.workflow_id is not None:
        try:
            run = await ctx.rollouts.status(params.workflow_id)
        except RolloutError as exc:
            return {"reply": Reply(agent="status", text=intro + str(exc))}
        reply = _run_reply("status", run)
        return {
            "reply": reply.model_copy(update={"text": intro + reply.text}),
            "workflow_id": run.workflow_id,
        }
    runs = [
        r
        for r in await ctx.rollouts.store.runs()
        if r.status in ("awaiting_approval", "rolling_out", "planning")
    ]
    if not runs:
        return {"reply": Reply(agent="status", text=intro + "No rollout is waiting or running.")}
    lines = [intro + f"{len(runs)} rollout(s) waiting or running:"]
    lines += [
        f"  {r.workflow_id}: {kind_of(r.kind).title} {r.status.replace('_', ' ')}, by {r.requested_by}"
        for r in runs
    ]
    lines.append('Name one to act on it, e.g. "status of ' + runs[0].workflow_id + '".')
    data = {"workflows": [r.model_dump(mode="json", include={"workflow_id", "kind", "status"}) for r in runs]}
    return {"reply": Reply(agent="status", text="\n".join(lines), data=data)}


HELP = (
    "I can answer questions about your cloud's costs, performance, resources and applications, start spot "
    "migrations, rightsizing, upsizing and idle stops (you approve before anything changes), and tell you "
    'how they went. Try: "where can we save money?", "which instances are over-provisioned?", "is the '
    'checkout service healthy?", "move the staging workers to spot", "stop the idle machines".'
)
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|good (?:morning|afternoon|evening)|howdy)\b", re.IGNORECASE)
_THANKS = re.compile(r"\b(?:thanks|thank you|cheers|bye|goodbye)\b", re.IGNORECASE)


async def general(state: ChatState) -> dict[str, Any]:
    text = state["message"]
    if note := state.get("note"):  # a request beyond the tools: said plainly, with the nearest thing
        return {"reply": Reply(agent="general", text=note)}
    if _THANKS.search(text):
        reply = "You're welcome. I'm here when you need another look at the cloud bill."
    elif _GREETING.search(text) or re.search(r"\b(?:help|what can you|who are you)\b", text, re.IGNORECASE):
        reply = "Hello! " + HELP
    else:
        reply = "That is outside what I can help with: I look after cloud costs and operations. " + HELP
    return {"reply": Reply(agent="general", text=reply)}


async def respond(state: ChatState, runtime: Runtime[SupervisorContext]) -> dict[str, Any]:
    ctx, route = runtime.context, state["route"]
    reply = state.get("reply") or Reply(agent="supervisor", text="I could not finish that in one turn.")
    calls = state.get("model_calls", 0)
    if ctx.narrator is not None and route.route in SPECIALISTS and reply.facts:
        calls += 1
        written = await ctx.narrator.write(state["message"], reply.text, reply.facts, reply.key, reply.scope)
        if written is not None:
            reply = reply.model_copy(update={"text": written, "narrated_by_model": True})
    pending = None
    if workflow_id := state.get("workflow_id"):
        try:
            run = await ctx.rollouts.status(workflow_id)
            pending = PendingApproval.of(run.pending) if run.pending else None
        except RolloutError:
            pass  # its rows are gone (a reset database): nothing waits, and the reply stands
    exchange = Exchange(user=state["message"], route=route.route, reply=reply.text)
    return {"reply": reply, "pending": pending, "history": [exchange], "model_calls": calls}


def build_supervisor_graph() -> StateGraph[ChatState, SupervisorContext, ChatInput, ChatOutput]:
    graph = StateGraph(
        ChatState, context_schema=SupervisorContext, input_schema=ChatInput, output_schema=ChatOutput
    )
    graph.add_node("understand", understand, destinations=WORKERS)
    for name in SPECIALISTS:
        graph.add_node(name, specialist)
        graph.add_edge(name, "respond")
    graph.add_node("rollout", rollout)
    graph.add_edge("rollout", "respond")
    graph.add_node("approval", approval, destinations=("status", "respond"))
    graph.add_node("status", status)
    graph.add_edge("status", "respond")
    graph.add_node("general", general)
    graph.add_edge("general", "respond")
    graph.add_node("respond", respond)
    graph.add_edge(START, "understand")
    graph.add_edge("respond", END)
    return graph
