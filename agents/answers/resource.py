"""The resource specialist answers: the inventory, one instance's details, idle machines, the type catalog and
spot interruption risk."""

from __future__ import annotations

from collections.abc import Callable

from agents.answers.base import Answer, Facts, Question, Tools, and_more, dump, has, usd
from agents.answers.scope import FILTERS, headline, instance_scope, unapplied
from agents.routing.models import RouteParams
from tools.analysis.off_hours import OffHoursSchedule
from tools.analysis.recommendation import Recommendation
from tools.models import Instance, InstanceState, InstanceTypeOffer
from tools.toolkit.results import InstanceList, SavingsReport, SpotReport

MAX_SHOWN = 10
_STATES: tuple[InstanceState, ...] = ("running", "stopped", "pending", "stopping", "terminated")


async def answer(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    if question.focus == "spot" or (
        has(text, "spot")
        and has(
            text, "risk\\w*", "interrupt\\w*", "safe", "could", "can", "eligible", "suitable", "candidates?"
        )
    ):
        return await (_spot_risk(question, tools) if params.instance_ids else _spot(question, tools))
    if question.focus == "off_hours":
        return await _off_hours(question, tools)
    if params.instance_ids:
        return await _describe(question, tools)
    if has(
        text, "idle", "unused", "doing nothing", "turn off", "shut down", "sitting", "zombies?", "wasted?"
    ):
        return await _idle(question, tools)
    counting = has(text, "how many", "count", "running", "run", "do we have", "we have", "list")
    if has(text, "types?", "sizes?", "offered", "sold", "sell", "vcpus?", "catalog") or (
        params.instance_type and not counting
    ):
        return await _types(question, tools)
    return await _inventory(question, tools)


async def _describe(question: Question, tools: Tools) -> Answer:
    found: list[Instance] = []
    lines: list[str] = []
    facts: Facts = {}
    for iid in question.params.instance_ids[:MAX_SHOWN]:
        i: Instance = await tools.call("describe_instance", instance_id=iid)
        found.append(i)
        app = f", serving {i.application}" if i.application else ""
        lines.append(
            f"{i.id} ({i.name}) is {i.state}: {i.instance_type} on {i.provider} {i.region}, {i.vcpus} vCPU, "
            f"{i.memory_gb:g} GB, {i.pricing_model} at {i.hourly_price:.4f} USD/h{app}."
        )
        facts |= {
            f"{i.id}_vcpus": i.vcpus,
            f"{i.id}_memory_gb": i.memory_gb,
            f"{i.id}_hourly": i.hourly_price,
        }
    return Answer(
        agent="resource",
        text="\n".join(lines),
        facts=facts,
        data={"instances": dump(found)},
        instance_ids=[i.id for i in found],
        application=found[0].application if len(found) == 1 else None,
    )


async def _inventory(question: Question, tools: Tools) -> Answer:
    params, text = question.params, question.text
    state = next((s for s in _STATES if has(text, s)), None)
    pricing = "spot" if has(text, "spot") else "reserved" if has(text, "reserved") else None
    listed: InstanceList = await tools.call(
        "list_instances", state=state, pricing_model=pricing, instance_type=params.instance_type, limit=500,
        **instance_scope(params),
    )  # fmt: skip
    extra = ", ".join(w for w in (state, pricing, params.instance_type) if w)
    where = headline(params, extra)
    lines = [f"{where}: {listed.total} instances."]
    facts: Facts = {"instances": listed.total}
    by_state: dict[str, int] = {}
    by_region: dict[str, int] = {}
    for i in listed.instances:
        by_state[i.state] = by_state.get(i.state, 0) + 1
        by_region[f"{i.provider} {i.region}"] = by_region.get(f"{i.provider} {i.region}", 0) + 1
    if listed.total <= len(listed.instances) and by_state:
        lines.append(
            "By state: " + ", ".join(f"{n} {s}" for s, n in sorted(by_state.items(), key=lambda kv: -kv[1]))
        )
        lines.append(
            "By region: "
            + ", ".join(f"{r} {n}" for r, n in sorted(by_region.items(), key=lambda kv: -kv[1])[:8])
        )
        facts |= {f"{s}_count": n for s, n in by_state.items()} | {
            f"{r}_count": n for r, n in by_region.items()
        }
    for i in listed.instances[:MAX_SHOWN] if listed.total <= MAX_SHOWN else []:
        lines.append(f"  {i.id} {i.instance_type} {i.state} {i.region} {i.application or ''}".rstrip())
    lines += unapplied(params, (*FILTERS, "instance_type"), "the inventory is as it stands now")
    return Answer(
        agent="resource",
        text="\n".join(lines),
        facts=facts,
        data={"total": listed.total, "instances": dump(listed.instances[:50])},
        instance_ids=[i.id for i in listed.instances] if listed.total <= len(listed.instances) else [],
        key="instances",
        scope=where,
    )


async def _idle(question: Question, tools: Tools) -> Answer:
    report: SavingsReport = await tools.call(
        "find_idle_instances", limit=MAX_SHOWN, **instance_scope(question.params)
    )
    return _ledger_answer(
        question.params, report, "idle",
        summary="{n} idle instances (P95 CPU under 3% and almost no network for 7 days), {usd} a month "
        "between them",
        row=lambda r: r.action,
        why="idle means the last 7 days",
        closing='Say "stop the idle machines" to plan it: you approve before anything changes.',
    )  # fmt: skip


async def _off_hours(question: Question, tools: Tools) -> Answer:
    """The ledger's off-hours opportunities in scope: what an off-hours rollout of the same scope plans."""
    report: SavingsReport = await tools.call(
        "find_off_hours_candidates", limit=MAX_SHOWN, **instance_scope(question.params)
    )
    return _ledger_answer(
        question.params, report, "off_hours",
        summary="{n} non-production instances are idle while their team is away, {usd} a month if they "
        "are stopped then",
        row=lambda r: OffHoursSchedule.parse(r.target).describe(),
        why="idle off hours means P95 CPU under 5% over the last 14 days' nights and weekends",
        closing='Say "stop the dev machines at night" to plan the schedules: you approve before any is set, '
        "and I stop and start them on time.",
    )  # fmt: skip


def _ledger_answer(
    params: RouteParams,
    report: SavingsReport,
    key: str,
    *,
    summary: str,
    row: Callable[[Recommendation], str],
    why: str,
    closing: str,
) -> Answer:
    """An answer listing the ledger's opportunities of one kind: the count and savings over the whole scope,
    the largest listed, and what to say next."""
    s = report.summary
    where = headline(params, ids=False)
    counted = summary.format(n=s.recommendations, usd=usd(s.monthly_savings))
    lines = [f"{where}: {counted}, among {report.instances_analysed} running instances."]
    facts: Facts = {key: s.recommendations, "monthly_usd": s.monthly_savings,
                    "analysed": report.instances_analysed}  # fmt: skip
    for r in report.recommendations:
        lines.append(f"  {r.instance_id} ({r.application or 'no app'}, {r.current}): {row(r)}, "
                     f"{usd(r.monthly_savings)}/month")  # fmt: skip
        facts[f"{r.instance_id}_usd"] = r.monthly_savings
    lines += and_more(s.recommendations, len(report.recommendations))
    lines += unapplied(params, FILTERS, why)
    lines += [closing] if s.recommendations else []
    return Answer(
        agent="resource",
        text="\n".join(lines),
        facts=facts,
        data={key: dump(report)},
        instance_ids=report.instance_ids,
        key=key,
        scope=where,
    )


async def _types(question: Question, tools: Tools) -> Answer:
    params, text = question.params, question.text
    provider = params.provider or "aws"
    gpu = True if has(text, "gpus?") else None
    offers: list[InstanceTypeOffer] = await tools.call(
        "list_instance_types", provider=provider, region=params.region, gpu=gpu, limit=500
    )
    if params.instance_type:
        offers = [o for o in offers if o.name == params.instance_type] or offers[:0]
    where = offers[0].region if offers else params.region or "its main region"
    lines = [f"{len(offers)} {'GPU ' if gpu else ''}instance types sold on {provider} in {where}"
             + (", cheapest first:" if len(offers) > 1 else ":")]  # fmt: skip
    facts: Facts = {"types": len(offers)}
    for o in offers[:MAX_SHOWN]:
        gpus = f", {o.gpu_count} GPU" if o.gpu_count else ""
        lines.append(f"  {o.name}: {o.vcpus} vCPU, {o.memory_gb:g} GB{gpus}, {o.on_demand_hourly:.4f} USD/h, "
                     f"spot interruptions {o.interruption_band}")  # fmt: skip
        facts |= {f"{o.name}_vcpus": o.vcpus, f"{o.name}_memory_gb": o.memory_gb,
                  f"{o.name}_on_demand": o.on_demand_hourly, f"{o.name}_gpus": o.gpu_count}  # fmt: skip
    if params.instance_type and not offers:
        lines = [f"{params.instance_type} is not sold on {provider} in {where}."]
    return Answer(agent="resource", text="\n".join(lines), facts=facts, data={"types": dump(offers[:50])})


async def _spot(question: Question, tools: Tools) -> Answer:
    """The ledger's spot opportunities in scope: what a spot migration of the same scope would plan."""
    report: SavingsReport = await tools.call(
        "find_spot_candidates", limit=MAX_SHOWN, **instance_scope(question.params)
    )
    return _ledger_answer(
        question.params, report, "spot_candidates",
        summary="{n} instances could move to spot, saving {usd} a month",
        row=lambda r: f"{r.risk} risk",
        why="spot savings are monthly estimates at today's prices",
        closing='Say "migrate them to spot" to plan it: you approve before anything changes.',
    )  # fmt: skip


async def _spot_risk(question: Question, tools: Tools) -> Answer:
    params = question.params
    report: SpotReport = await tools.call(
        "assess_spot_risk", instance_ids=params.instance_ids, **instance_scope(params)
    )
    eligible = [a for a in report.assessments if a.eligible]
    savings = sum(a.monthly_savings for a in eligible)
    lines = [f"{report.eligible} of {report.eligible + report.not_eligible} on-demand instances could run on "
             f"spot, saving {usd(savings)} a month."]  # fmt: skip
    facts: Facts = {
        "eligible": report.eligible,
        "not_eligible": report.not_eligible,
        "monthly_usd": round(savings, 2),
    }
    shown = report.assessments if params.instance_ids else sorted(eligible, key=lambda a: -a.monthly_savings)
    for a in shown[:MAX_SHOWN]:
        verdict = "eligible" if a.eligible else "not eligible"
        lines.append(f"  {a.instance_id}: {verdict}, {a.risk} risk, interruptions {a.interruption_band}, "
                     f"{usd(a.monthly_savings)}/month — {a.reasons[0] if a.reasons else ''}")  # fmt: skip
        facts[f"{a.instance_id}_usd"] = a.monthly_savings
    return Answer(
        agent="resource",
        text="\n".join(lines),
        facts=facts,
        data={"spot": dump(report.model_copy(update={"assessments": shown[:50]}))},
        instance_ids=[a.instance_id for a in shown[:MAX_SHOWN]],
    )
