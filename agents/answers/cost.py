"""The cost specialist answers: spend and its breakdowns, the forecast, prices, where money can be saved."""

from __future__ import annotations

import re
from datetime import timedelta

from agents.answers.base import Answer, Facts, Question, Tools, dump, has, usd
from agents.answers.scope import FILTERS, headline, instance_scope, unapplied, window
from tools.analysis.forecast import CostForecast
from tools.analysis.kinds import RESOURCE_OF, STORAGE_KINDS, plural
from tools.analysis.root_cause import FoundAnomaly
from tools.models import CostBreakdown, InstanceTypeOffer
from tools.toolkit.cost import AnomalyReport
from tools.toolkit.results import SavingsReport

# "by team" → the cost API's group names.
_GROUPS = {
    "region": "region", "provider": "provider", "cloud": "provider", "team": "tag:team",
    "environment": "tag:environment", "application": "application", "app": "application",
    "service": "service", "day": "day", "instance type": "instance_type", "type": "instance_type",
    "pricing model": "pricing_model",
}  # fmt: skip
_GROUPED = re.compile(r"\b(?:by|per|each|which|what)\s+(" + "|".join(_GROUPS) + r")s?\b", re.IGNORECASE)
MAX_GROUPS = 8  # groups a breakdown lists; the rest are summed in one line
MAX_DAYS_SHOWN = 31
_KIND_WORDS = {
    "spot": "spot", "reserved": "reservation", "rightsize": "rightsizing", "idle": "idle",
    "unattached_volume": "unattached-volume", "volume_type": "volume-type", "old_snapshot": "old-snapshot",
    "idle_address": "idle-address", "off_hours": "off-hours", "bucket_tier": "bucket-tier",
}  # fmt: skip
# What a storage question's resources are on the bill (its services), and what they are called.
_BILLED_AS = {
    "old_snapshot": ("snapshots",),
    "bucket_tier": ("object-storage", "data-retrieval", "early-deletion"),
}
_BILLED_WORDS = {"old_snapshot": "Snapshots", "bucket_tier": "Buckets"}
# A cloud's own name for its storage says which cloud a question is about.
_STORAGE_OF = {
    "aws": (r"s3", r"glacier", r"ebs"),
    "azure": (r"blob", r"storage accounts?", r"managed disks?"),
    "gcp": (r"cloud storage", r"gcs", r"persistent disks?"),
}
_STORAGE_WORDS = (
    r"disks?",
    r"volumes?",
    r"ebs",
    r"snapshots?",
    r"backups?",
    r"gp2",
    r"gp3",
    r"ip addresse?s?",
    r"elastic ips?",
    r"public ips?",
    r"ips",
    r"eips?",
    r"unattached",
    r"orphan\w*",
    r"buckets?",
    r"s3",
    r"object storage",
    r"storage class(?:es)?",
    r"glacier",
    r"blob",
    r"storage accounts?",
)


async def answer(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    if params.instance_type or has(text, r"prices?", "per hour", "hourly", "cheapest"):
        return await _prices(question, tools)
    if has(text, *_STORAGE_WORDS):
        return await _storage(question, tools)
    if has(text, r"anomal\w*", r"spikes?", r"jump\w*", "unusual", "unexpected", "strange", "weird", "surge"):
        return await _anomalies(question, tools)
    if has(
        text, r"forecast\w*", "predict", "next month", "next 30 days", r"project\w*", "quarter", "run rate"
    ):
        return await _forecast(question, tools)
    if has(
        text,
        r"sav\w*",
        "cut",
        "cheaper",
        r"opportunit\w*",
        r"reserv\w*",
        r"wast\w*",
        "spot",
        "reduce",
        r"commit\w*",
    ):
        return await _savings(question, tools)
    return await _spend(question, tools)


async def _spend(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    grouped = _GROUPED.search(text)
    group_by = _GROUPS[grouped.group(1).lower()] if grouped else "day" if has(text, "daily") else None
    now = (await tools.call("current_time")).now
    span = window(params.period, now)
    where = headline(params, span.label, ids=False)
    facts: Facts = {"days": round(span.days, 2)}
    if span.days <= 0:
        text_ = f"{where}: 0.00 USD — the period has only just begun."
        facts["total_usd"] = 0.0
        return Answer(
            agent="cost", text=text_, facts=facts, data={"window": span.label}, key="total_usd", scope=where
        )
    costs: CostBreakdown = await tools.call(
        "get_costs", group_by=group_by, days=span.days, until=span.end, **instance_scope(params)
    )
    facts["total_usd"] = round(costs.total, 2)
    lines = [f"{where}: {usd(costs.total)}."]
    if group_by and costs.groups:
        # Days read in their order, a month of them at most; other groups largest first.
        daily = group_by == "day"
        ranked = costs.groups if daily else sorted(costs.groups, key=lambda g: -g.amount)
        shown = MAX_DAYS_SHOWN if daily else MAX_GROUPS
        lines.append(f"By {group_by.removeprefix('tag:')}:")
        for g in ranked[:shown]:
            share = g.amount / costs.total * 100 if costs.total else 0.0
            lines.append(f"  {g.key}: {usd(g.amount)} ({share:.1f}%)")
            facts[f"{g.key}_usd"], facts[f"{g.key}_pct"] = round(g.amount, 2), round(share, 1)
        if len(ranked) > shown:
            rest = sum(g.amount for g in ranked[shown:])
            lines.append(f"  and {len(ranked) - shown} more: {usd(rest)}")
            facts["others_usd"], facts["others"] = round(rest, 2), len(ranked) - shown
    lines += unapplied(params, (*FILTERS, "period"), "costs are not broken out per instance or type")
    return Answer(
        agent="cost",
        text="\n".join(lines),
        facts=facts,
        data={"costs": dump(costs)},
        key="total_usd",
        scope=where,
    )


# The scope a question names → the anomaly series it means, the narrowest first.
_SERIES_OF = (
    ("application", "application"),
    ("team", "tag:team"),
    ("region", "region"),
    ("provider", "provider"),
)


async def _anomalies(question: Question, tools: Tools) -> Answer:
    params = question.params
    now = (await tools.call("current_time")).now
    span = window(params.period, now, default_days=7)
    # Judged on whole days, today's bill still running up: those from the window's first to yesterday.
    first, after = span.start.date(), (span.end - timedelta(microseconds=1)).date()
    days = max(1, min(60, (now.date() - first).days))
    report: AnomalyReport = await tools.call("find_cost_anomalies", days=days)
    # One series: the narrowest the question names ("ml's spend" → team ml); the rest is said unapplied.
    part, dimension = next(((p, d) for p, d in _SERIES_OF if getattr(params, p)), (None, None))
    value = getattr(params, part) if part else None
    found = [
        a for a in report.anomalies
        if (part is None or (a.dimension == dimension and a.value.split("/")[-1] == value))
        and a.start <= after and a.end >= first
    ]  # fmt: skip
    spikes = [a for a in found if a.kind == "spike"]
    new = [a for a in found if a.kind == "new_spend"]
    where = headline(params, span.label, ids=False)
    facts: Facts = {"spikes": len(spikes), "new_spend": len(new)}
    if not spikes:
        lines = [f"{where}: no cost spikes — no series ran past its own weekdays' normal."]
    else:
        # Not summed: one extra shows in every series it is part of (its application, team, region, cloud).
        lines = [f"{where}: {_count(len(spikes), 'cost spike')}, the largest first:"]
    for k, a in enumerate(spikes[:MAX_GROUPS]):
        lines.append("  " + _anomaly_line(a))
        facts |= {f"spike{k}_impact_usd": a.impact_usd, f"spike{k}_actual_usd": a.actual_usd,
                  f"spike{k}_expected_usd": a.expected_usd, f"spike{k}_pct": a.impact_pct}  # fmt: skip
    if len(spikes) > MAX_GROUPS:
        lines.append(f"  and {len(spikes) - MAX_GROUPS} more.")
    if new:
        lines.append(f"Apart from these, {_count(len(new), 'rise')} from machines launched (new spend):")
        lines += ["  " + _anomaly_line(a) for a in new[:3]]
    lines += unapplied(params, ("period", *([part] if part else [])), "anomalies are watched one series at "
                       "a time: per service, team, application, region and cloud")  # fmt: skip
    return Answer(agent="cost", text="\n".join(lines), facts=facts, data={"anomalies": dump(report)},
                  key="spikes", scope=where)  # fmt: skip


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else plural(noun)}"


def _anomaly_line(a: FoundAnomaly) -> str:
    days = f"{a.start:%b %-d}" if a.start == a.end else f"{a.start:%b %-d} – {a.end:%b %-d}"
    series = f"{a.dimension.removeprefix('tag:')} {a.value}"
    line = (f"{series}, {days}: {usd(a.actual_usd)} against {usd(a.expected_usd)} expected "
            f"(+{usd(a.impact_usd)}, +{a.impact_pct:g}%, {a.severity})")  # fmt: skip
    cause = a.root_cause
    drivers = [c for dim in ("application", "tag:team") for c in cause.dimensions.get(dim, [])[:1]]
    top = cause.instances[0].key if cause.instances else None
    if drivers or top:
        named = ", ".join([d.key for d in drivers] + ([f"machine {top}"] if top else []))
        line += f"; mostly {named}"
    return line


async def _forecast(question: Question, tools: Tools) -> Answer:
    params = question.params
    f: CostForecast = await tools.call("forecast_costs", **instance_scope(params))
    direction = "rising" if f.trend_per_day > 0 else "falling"
    where = headline(params, ids=False)
    text = (
        f"{where}, forecast for the 30 days after {f.last_day}: {usd(f.next_30_days)} "
        f"(95% range {usd(f.lower_95)} to {usd(f.upper_95)}). Daily spend is {direction} by "
        f"{usd(abs(f.trend_per_day))} a day; on the last 7 known days the method was off by "
        f"{f.backtest_mape_pct:.1f}% on average."
    )
    for note in unapplied(params, FILTERS, "a forecast covers the next 30 days, fitted on the last 60"):
        text += " " + note
    facts: Facts = {
        "next_30_days_usd": f.next_30_days, "lower_95_usd": f.lower_95, "upper_95_usd": f.upper_95,
        "trend_per_day_usd": abs(f.trend_per_day), "backtest_mape_pct": f.backtest_mape_pct,
        "last_day": str(f.last_day),
    }  # fmt: skip
    return Answer(
        agent="cost", text=text, facts=facts, data={"forecast": dump(f)}, key="next_30_days_usd", scope=where
    )


async def _savings(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    kinds = [k for k, words in (("spot", ("spot",)), ("reserved", (r"reserv\w*", "commit\\w*")),
             ("rightsize", (r"right-?siz\w*", r"downsiz\w*")), ("idle", ("idle", "unused")))
             if has(text, *words)]  # fmt: skip
    args: dict[str, object] = {**instance_scope(params), "instance_ids": params.instance_ids, "limit": 5}
    if kinds:
        args["kinds"] = kinds
    report: SavingsReport = await tools.call("find_savings", **args)
    s = report.summary
    what = " and ".join(_KIND_WORDS[k] for k in kinds) if kinds else "savings"
    where = headline(params)
    among = [f"{report.instances_analysed} running instances"] + [
        f"{n} {noun}" for n, noun in ((report.volumes_analysed, "volumes"),
                                      (report.snapshots_analysed, "snapshots"),
                                      (report.addresses_analysed, "public addresses")) if n
    ]  # fmt: skip
    lines = [f"{where}: {s.recommendations} {what} opportunities worth {usd(s.monthly_savings)} a "
             f"month in all, among {_listed(among)}."]  # fmt: skip
    facts: Facts = {"opportunities": s.recommendations, "monthly_usd": s.monthly_savings,
                    "analysed": report.instances_analysed}  # fmt: skip
    for kind, amount in sorted(s.by_kind.items(), key=lambda kv: -kv[1]):
        noun = RESOURCE_OF[kind]
        lines.append(f"  {kind}: {_count(s.count_by_kind[kind], noun)}, {usd(amount)}/month")
        facts[f"{kind}_usd"], facts[f"{kind}_count"] = amount, s.count_by_kind[kind]
    if report.recommendations:
        lines.append("Best first:")
    for r in report.recommendations:
        lines.append(f"  {r.instance_id} ({r.application or 'no app'}): {r.action} {r.current} → {r.target}, "
                     f"{usd(r.monthly_savings)}/month, {r.risk} risk")  # fmt: skip
        facts[f"{r.instance_id}_usd"] = r.monthly_savings
    if s.recommendations > len(report.recommendations):
        lines.append(f"  and {s.recommendations - len(report.recommendations)} more.")
    if report.under_provisioned and (not kinds or "rightsize" in kinds):
        lines.append(
            f"Apart from these, {report.under_provisioned} under-provisioned instances need a larger type: "
            f"{usd(report.under_provisioned_monthly_cost)} a month more, not netted into the savings."
        )
        facts["under_provisioned"] = report.under_provisioned
        facts["under_provisioned_usd"] = report.under_provisioned_monthly_cost
    lines += unapplied(params, (*FILTERS, "instance_ids"), "savings are monthly estimates at today's prices")
    return Answer(
        agent="cost",
        text="\n".join(lines),
        facts=facts,
        data={"savings": dump(report)},
        instance_ids=report.instance_ids,
        key="monthly_usd",
        scope=where,
    )


async def _storage(question: Question, tools: Tools) -> Answer:
    """Volumes, snapshots, addresses and buckets: the ledger's findings of the kinds the question names,
    and what the bill says the account spent on them."""
    text, params = question.text, question.params
    named = next((cloud for cloud, words in _STORAGE_OF.items() if has(text, *words)), None)
    if params.provider is None and named is not None:  # "S3 buckets" are AWS's, "blob storage" Azure's
        params = params.model_copy(update={"provider": named})
    kinds = [k for k, words in (
        ("unattached_volume", (r"unattached", r"orphan\w*", r"detached", r"unused", r"disks?", r"volumes?")),
        ("volume_type", (r"gp2", r"gp3", r"io1", r"volume types?", r"disk types?", r"cheaper type")),
        ("old_snapshot", (r"snapshots?", r"backups?")),
        ("idle_address", (r"ip addresse?s?", r"elastic ips?", r"public ips?", r"ips", r"eips?")),
        ("bucket_tier", (r"buckets?", r"s3", r"object storage", r"storage class(?:es)?", r"glacier", r"blob",
                         r"storage accounts?")),
    ) if has(text, *words)]  # fmt: skip
    if has(text, r"gp2", r"gp3", r"io1", r"volume types?", r"disk types?") and not has(text, "unattached"):
        kinds = [k for k in kinds if k != "unattached_volume"]
    kinds = kinds or list(STORAGE_KINDS)
    args: dict[str, object] = {**instance_scope(params), "kinds": kinds, "limit": 5}
    report: SavingsReport = await tools.call("find_savings", **args)
    s = report.summary
    where = headline(params, ids=False)
    analysed = {"volume": report.volumes_analysed, "snapshot": report.snapshots_analysed,
                "address": report.addresses_analysed, "bucket": report.buckets_analysed}  # fmt: skip
    seen = sorted({RESOURCE_OF[k] for k in kinds}, key=list(analysed).index)
    counted = ", ".join(_count(analysed[n], n) for n in seen)
    lines = [f"{where}: {s.recommendations} opportunities worth {usd(s.monthly_savings)} a month among "
             f"{counted}."]  # fmt: skip
    facts: Facts = {"opportunities": s.recommendations, "monthly_usd": s.monthly_savings}
    for kind in kinds:
        count, amount = s.count_by_kind.get(kind, 0), s.by_kind.get(kind, 0.0)
        lines.append(f"  {_KIND_WORDS[kind]}: {_count(count, RESOURCE_OF[kind])}, {usd(amount)}/month")
        facts[f"{kind}_usd"], facts[f"{kind}_count"] = amount, count
    if report.recommendations:
        lines.append("Best first:")
    for r in report.recommendations:
        lines.append(f"  {r.instance_id} ({r.application or 'no app'}): {r.action}, {r.current} → "
                     f"{r.target}, {usd(r.monthly_savings)}/month, {r.risk} risk; "
                     f"{r.reasons[0]}")  # fmt: skip
        facts[f"{r.instance_id}_usd"] = r.monthly_savings
    if s.recommendations > len(report.recommendations):
        lines.append(f"  and {s.recommendations - len(report.recommendations)} more.")
    billed = [(k, services) for k, services in _BILLED_AS.items() if k in kinds]
    if billed:
        now = (await tools.call("current_time")).now
        span = window(params.period, now)
        spent: CostBreakdown = await tools.call(
            "get_costs", group_by="service", days=span.days, until=span.end, **instance_scope(params)
        )
        by_service = {g.key: g.amount for g in spent.groups}
        for kind, services in billed:
            parts = ", ".join(f"{s} {usd(by_service.get(s, 0.0))}" for s in services)
            total = sum(by_service.get(s, 0.0) for s in services)
            lines.append(f"{_BILLED_WORDS[kind]} cost {usd(total)} over {span.label} on the bill, all of them"
                         + (f" ({parts})." if len(services) > 1 else "."))  # fmt: skip
            facts[f"{RESOURCE_OF[kind]}s_spend_usd"] = round(total, 2)
    lines += [f"Not analysed: {note}" for note in report.notes]
    lines += unapplied(params, FILTERS, "savings are monthly estimates at today's list prices")
    return Answer(agent="cost", text="\n".join(lines), facts=facts, data={"savings": dump(report)},
                  instance_ids=report.instance_ids, key="monthly_usd", scope=where)  # fmt: skip


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
