"""The performance specialist answers: how busy instances are, and which are the wrong size for their load."""

from __future__ import annotations

from agents.answers.base import Answer, Facts, Question, Tools, and_more, dump, usd
from agents.answers.scope import FILTERS, headline, instance_scope, unapplied
from tools.toolkit.results import MetricsSummary, RightsizingReport

MAX_INSTANCES = 5  # per answer: a chat reply, not a report


async def answer(question: Question, tools: Tools) -> Answer:
    if question.params.instance_ids and question.focus is None and question.params.resize is None:
        return await _metrics(question, tools)
    return await _sizing(question, tools)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


async def _metrics(question: Question, tools: Tools) -> Answer:
    lines: list[str] = []
    facts: Facts = {}
    found: list[MetricsSummary] = []
    for iid in question.params.instance_ids[:MAX_INSTANCES]:
        m: MetricsSummary = await tools.call("get_instance_metrics", instance_id=iid, hours=168)
        found.append(m)
        lines.append(
            f"{iid} over the last 7 days: CPU mean {_pct(m.cpu_mean_pct)}, P95 {_pct(m.cpu_p95_pct)}, "
            f"max {_pct(m.cpu_max_pct)}; memory P95 {_pct(m.memory_p95_pct)}; "
            f"network {m.network_mean_mbps or 0:.1f} Mbit/s on average."
        )
        facts |= {f"{iid}_{k}": v for k, v in m.model_dump().items() if isinstance(v, (int, float))}
        if m.cpu_p95_pct is not None and m.cpu_p95_pct > 80:
            lines.append("  It runs hot: P95 CPU above 80% leaves little headroom.")
        elif m.cpu_p95_pct is not None and m.cpu_p95_pct < 20:
            lines.append("  It is mostly idle: a smaller type would likely do.")
    ids = question.params.instance_ids[:MAX_INSTANCES]
    return Answer(
        agent="performance",
        text="\n".join(lines),
        facts=facts,
        data={"metrics": dump(found)},
        instance_ids=ids,
    )


async def _sizing(question: Question, tools: Tools) -> Answer:
    params = question.params
    report: RightsizingReport = await tools.call(
        "find_rightsizing", instance_ids=params.instance_ids, limit=MAX_INSTANCES, **instance_scope(params)
    )
    counts, savings = report.findings, report.savings
    total = sum(counts.values())
    facts: Facts = {"instances": total, **{f"{k}_count": v for k, v in counts.items()}}
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    where = headline(params)
    lines = [f"{where}: of {total} running instances sized at their P95 with 20% headroom, {summary}."]
    upsize = question.focus == "upsize" or params.resize == "up"
    if upsize:
        shown, ids = report.under_provisioned, [r.instance_id for r in report.under_provisioned]
        lines.append(
            f"{savings.under_provisioned} need a larger type: "
            f"{usd(savings.under_provisioned_monthly_cost)} a month more between them (a performance fix, "
            "not a saving)" + (", the largest first:" if shown else ".")
        )
        facts["under_provisioned"] = savings.under_provisioned
        facts["under_provisioned_usd"] = savings.under_provisioned_monthly_cost
        for r in shown:
            lines.append(f"  {r.instance_id}: {r.current} → {r.target}, {usd(-r.monthly_savings)}/month more")
            facts[f"{r.instance_id}_usd"] = -r.monthly_savings
        lines += and_more(savings.under_provisioned, len(shown))
    else:
        s = savings.summary
        lines.append(
            f"{s.recommendations} of them can move to a cheaper type that still fits, saving "
            f"{usd(s.monthly_savings)} a month" + (", the largest first:" if savings.recommendations else ".")
        )
        facts["downsize"], facts["monthly_usd"] = s.recommendations, s.monthly_savings
        for r in sorted(savings.recommendations, key=lambda r: -r.monthly_savings):
            cpu = f", projected P95 CPU {r.projected_cpu_pct:.1f}%" if r.projected_cpu_pct is not None else ""
            lines.append(f"  {r.instance_id}: {r.current} → {r.target}, {usd(r.monthly_savings)}/month{cpu}")
            facts[f"{r.instance_id}_usd"] = r.monthly_savings
            if r.projected_cpu_pct is not None:
                facts[f"{r.instance_id}_projected_cpu_pct"] = r.projected_cpu_pct
        lines += and_more(s.recommendations, len(savings.recommendations))
        ids = savings.instance_ids
        if s.recommendations:
            lines.append('Say "rightsize them" to plan it: you approve before anything changes.')
    lines += unapplied(params, (*FILTERS, "instance_ids"), "sizing reads the last 14 days of utilisation")
    return Answer(
        agent="performance",
        text="\n".join(lines),
        facts=facts,
        data={"rightsizing": dump(report)},
        instance_ids=ids,
        key="under_provisioned" if upsize else "downsize",
        scope=where,
    )
