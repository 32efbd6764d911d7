"""The cost specialist answers: spend and its breakdowns, the forecast, prices, where money can be saved."""

from __future__ import annotations

import re

from agents.answers.base import Answer, Facts, Question, Tools, dump, has, usd
from tools.analysis.forecast import CostForecast
from tools.models import CostBreakdown, InstanceTypeOffer
from tools.toolkit.results import SavingsReport

# "by team" → the cost API's group names.
_GROUPS = {
    "region": "region", "provider": "provider", "cloud": "provider", "team": "tag:team",
    "environment": "tag:environment", "application": "application", "app": "application",
    "service": "service", "day": "day", "instance type": "instance_type", "type": "instance_type",
    "pricing model": "pricing_model",
}  # fmt: skip
_GROUPED = re.compile(r"\b(?:by|per|each|which|what)\s+(" + "|".join(_GROUPS) + r")s?\b", re.IGNORECASE)
_LAST_DAYS = re.compile(r"\b(?:last|past)\s+(\d+)\s+days?\b", re.IGNORECASE)


async def answer(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    if params.instance_type or has(text, r"prices?", "per hour", "hourly", "cheapest"):
        return await _prices(question, tools)
    if has(text, r"forecast\w*", "predict", "next month", "next 30 days", "budget", r"project\w*", "quarter"):
        return await _forecast(tools)
    if has(text, r"sav\w*", "cut", "cheaper", r"opportunit\w*", r"reserv\w*", "waste", "reduce"):
        return await _savings(question, tools)
    return await _spend(question, tools)


async def _spend(question: Question, tools: Tools) -> Answer:
    text = question.text
    grouped = _GROUPED.search(text)
    group_by = _GROUPS[grouped.group(1).lower()] if grouped else None
    days_given = _LAST_DAYS.search(text)
    days = 7.0 if has(text, "week") else float(days_given.group(1)) if days_given else 30.0
    month_to_date = has(text, "this month", "month to date", "so far", "since the 1st")
    costs: CostBreakdown = await tools.call(
        "get_costs", group_by=group_by, days=min(days, 90.0), month_to_date=month_to_date
    )
    window = "this month so far" if month_to_date else f"over the last {days:g} days"
    facts: Facts = {"total_usd": round(costs.total, 2), "days": days}
    lines = [f"Cloud spend {window}: {usd(costs.total)}."]
    if group_by and costs.groups:
        top = sorted(costs.groups, key=lambda g: -g.amount)[:5]
        lines.append(f"Largest by {group_by.removeprefix('tag:')}:")
        for g in top:
            share = g.amount / costs.total * 100 if costs.total else 0.0
            lines.append(f"  {g.key}: {usd(g.amount)} ({share:.1f}%)")
            facts[f"{g.key}_usd"], facts[f"{g.key}_pct"] = round(g.amount, 2), round(share, 1)
    return Answer(agent="cost", text="\n".join(lines), facts=facts, data={"costs": dump(costs)})


async def _forecast(tools: Tools) -> Answer:
    f: CostForecast = await tools.call("forecast_costs")
    direction = "rising" if f.trend_per_day > 0 else "falling"
    text = (
        f"Forecast for the 30 days after {f.last_day}: {usd(f.next_30_days)} "
        f"(95% range {usd(f.lower_95)} to {usd(f.upper_95)}). Daily spend is {direction} by "
        f"{usd(abs(f.trend_per_day))} a day; on the last 7 known days the method was off by "
        f"{f.backtest_mape_pct:.1f}% on average."
    )
    facts: Facts = {
        "next_30_days_usd": f.next_30_days, "lower_95_usd": f.lower_95, "upper_95_usd": f.upper_95,
        "trend_per_day_usd": abs(f.trend_per_day), "backtest_mape_pct": f.backtest_mape_pct,
        "last_day": str(f.last_day),
    }  # fmt: skip
    return Answer(agent="cost", text=text, facts=facts, data={"forecast": dump(f)})


async def _savings(question: Question, tools: Tools) -> Answer:
    text = question.text
    kinds = [k for k, words in (("spot", ("spot",)), ("reserved", (r"reserv\w*", "commit\\w*")),
             ("rightsize", (r"right-?siz\w*", r"downsiz\w*")), ("idle", ("idle", "unused")))
             if has(text, *words)]  # fmt: skip
    args: dict[str, object] = {"provider": question.params.provider, "limit": 5}
    if kinds:
        args["kinds"] = kinds
    report: SavingsReport = await tools.call("find_savings", **args)
    s = report.summary
    lines = [f"{s.recommendations} savings opportunities worth {usd(s.monthly_savings)} a month in all."]
    facts: Facts = {"opportunities": s.recommendations, "monthly_usd": s.monthly_savings}
    for kind, amount in sorted(s.by_kind.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {kind}: {s.count_by_kind[kind]} instances, {usd(amount)}/month")
        facts[f"{kind}_usd"], facts[f"{kind}_count"] = amount, s.count_by_kind[kind]
    if report.recommendations:
        lines.append("Best first:")
    for r in report.recommendations:
        lines.append(f"  {r.instance_id} ({r.application or 'no app'}): {r.action} {r.current} → {r.target}, "
                     f"{usd(r.monthly_savings)}/month, {r.risk} risk")  # fmt: skip
        facts[f"{r.instance_id}_usd"] = r.monthly_savings
    return Answer(
        agent="cost",
        text="\n".join(lines),
        facts=facts,
        data={"savings": dump(report)},
        instance_ids=[r.instance_id for r in report.recommendations],
    )


async def _prices(question: Question, tools: Tools) -> Answer:
    params = question.params
    provider = params.provider or "aws"
    types = [params.instance_type] if params.instance_type else []
    offers: list[InstanceTypeOffer] = await tools.call(
        "compare_prices", provider=provider, region=params.region, instance_types=types
    )
    shown = offers[:5]
    where = shown[0].region if shown else params.region or "its main region"
    lines = [f"Hourly prices on {provider} in {where}" + ("" if types else " (cheapest first)") + ":"]
    facts: Facts = {}
    for o in shown:
        lines.append(f"  {o.name} ({o.vcpus} vCPU, {o.memory_gb:g} GB): on-demand {o.on_demand_hourly:.4f}, "
                     f"spot {o.spot_hourly:.4f}, 1-year reserved {o.reserved_hourly:.4f} USD/h")  # fmt: skip
        facts |= {f"{o.name}_on_demand": o.on_demand_hourly, f"{o.name}_spot": o.spot_hourly,
                  f"{o.name}_reserved": o.reserved_hourly, f"{o.name}_vcpus": o.vcpus,
                  f"{o.name}_memory_gb": o.memory_gb}  # fmt: skip
    return Answer(agent="cost", text="\n".join(lines), facts=facts, data={"prices": dump(shown)})
