"""The application specialist answers: service health against its baseline, what runs where, which services
keep state or could ride out spot interruptions."""

from __future__ import annotations

import re

from agents.answers.base import Answer, Facts, Question, Tools, dump, has
from agents.answers.scope import unapplied
from tools.analysis.tolerance import DEPENDENCY_TIERS, SPOT_INTOLERANT_TIERS
from tools.toolkit.results import ApplicationSummary, QualitySummary

MAX_CHECKED = 8  # services whose quality one answer checks (each is a metrics query)


async def answer(question: Question, tools: Tools) -> Answer:
    found = await _answer(question, tools)
    notes = unapplied(question.params, _APPLIES, "services are told apart by cloud, team and environment")
    return found.model_copy(update={"text": "\n".join([found.text, *notes])}) if notes else found


_APPLIES = ("provider", "team", "environment", "application")


async def _answer(question: Question, tools: Tools) -> Answer:
    text, params = question.text, question.params
    apps: list[ApplicationSummary] = await tools.call(
        "list_applications", provider=params.provider, team=params.team, limit=500
    )
    if params.environment:
        apps = [a for a in apps if a.environment == params.environment]
    # The team's own name says whose applications, not which: "the search team's" is all of them.
    mentioned = _mentioned(text.lower().replace(params.team, " ") if params.team else text, apps)
    named = [a for a in apps if a.name == params.application] if params.application else mentioned
    if has(text, "stateful", "state", r"spot\w*", r"interrupt\w*", r"preempt\w*", r"tolerat\w*", "survive"):
        return _tolerance(named or apps, text)
    if named or has(
        text, r"health\w*", "degraded", "slos?", "latency", r"errors?", "slow", "doing", "normal"
    ):
        return await _health(named or apps, tools)
    return _catalogue(apps)


def _mentioned(text: str, apps: list[ApplicationSummary]) -> list[ApplicationSummary]:
    """Applications the request names by their team and component words: "checkout" → checkout-*,
    "the checkout api" → checkout-api-*."""
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    of_team = [a for a in apps if a.name.split("-")[0] in words]
    narrowed = [a for a in of_team if a.name.split("-")[1] in words]
    return narrowed or of_team


def spot_verdict(app: ApplicationSummary) -> str | None:
    """Why the service could not ride out spot interruptions, or None when it could."""
    if app.stateful:
        return "stateful: its data lives on the machines"
    if app.tier in DEPENDENCY_TIERS:
        return f"a {app.tier}: other services depend on it"
    if app.tier in SPOT_INTOLERANT_TIERS:
        return f"{app.tier} work loses its progress when reclaimed"
    return None


def _tolerance(apps: list[ApplicationSummary], text: str) -> Answer:
    verdicts = {a.name: spot_verdict(a) for a in apps}
    tolerant = [a for a in apps if verdicts[a.name] is None]
    stateful = [a for a in apps if a.stateful]
    asks_state = has(text, "stateful", "state")
    lines = (
        [f"{len(stateful)} of {len(apps)} applications are stateful:"]
        if asks_state
        else [f"{len(tolerant)} of {len(apps)} applications could ride out spot interruptions."]
    )
    for a in (stateful if asks_state else apps)[:10]:
        why = verdicts[a.name]
        verdict = "stateful" if asks_state else ("tolerates spot" if why is None else f"not on spot ({why})")
        lines.append(f"  {a.name} ({a.tier}, {a.instances} instances): {verdict}")
    facts: Facts = {"applications": len(apps), "spot_tolerant": len(tolerant), "stateful": len(stateful)}
    rows = [
        dump(a) | {"spot_tolerant": verdicts[a.name] is None, "why_not": verdicts[a.name]} for a in apps[:50]
    ]
    data = {"applications": rows}
    one = apps[0].name if len(apps) == 1 else None
    return Answer(agent="application", text="\n".join(lines), facts=facts, data=data, application=one)


async def _health(apps: list[ApplicationSummary], tools: Tools) -> Answer:
    checked: list[QualitySummary] = []
    for a in apps[:MAX_CHECKED]:
        checked.append(await tools.call("get_application_quality", application=a.name, minutes=60))
    degraded = [q for q in checked if q.degraded]
    saturated = [q for q in checked if q.saturated]
    lines = [
        f"{len(degraded)} of {len(checked)} applications checked look worse than their normal over the last "
        f"hour, {len(saturated)} run saturated"
        + (" (the most expensive first):" if len(apps) > len(checked) else ":")
    ]
    facts: Facts = {"checked": len(checked), "degraded": len(degraded), "saturated": len(saturated)}
    for q in checked:
        state = "DEGRADED" if q.degraded else "SATURATED" if q.saturated else "healthy"
        why = f" ({'; '.join(q.reasons)})" if q.reasons else ""
        lines.append(
            f"  {q.application}: {state}{why}, p95 latency {q.latest_p95_latency_ms:.1f} ms now, "
            f"{q.p95_latency_ms:.1f} ms over the hour against {q.normal_p95_latency_ms:.1f} ms "
            f"at these hours on other days, error rate {q.latest_error_rate * 100:.2f}%, "
            f"{q.serving_replicas}/{q.desired_replicas} replicas serving"
        )
        facts |= {
            f"{q.application}_latency_ms": q.latest_p95_latency_ms,
            f"{q.application}_latency_vs_normal_pct": q.latency_vs_normal_pct,
            f"{q.application}_normal_ms": q.normal_p95_latency_ms,
            f"{q.application}_error_rate_pct": round(q.latest_error_rate * 100, 2),
            f"{q.application}_serving": q.serving_replicas,
            f"{q.application}_replicas": q.desired_replicas,
        }
    one = checked[0].application if len(checked) == 1 else None
    return Answer(
        agent="application",
        text="\n".join(lines),
        facts=facts,
        data={"quality": dump(checked)},
        application=one,
    )


def _catalogue(apps: list[ApplicationSummary]) -> Answer:
    hourly = sum(a.hourly_cost for a in apps)
    lines = [f"{len(apps)} applications, {hourly:,.2f} USD/h between them; the most expensive:"]
    facts: Facts = {"applications": len(apps), "hourly_usd": round(hourly, 2)}
    for a in apps[:10]:
        where = ", ".join(f"{p}" for p in a.providers) + " " + ", ".join(a.regions)
        lines.append(f"  {a.name} ({a.team}, {a.environment}, {a.tier}): {a.instances} instances on {where}, "
                     f"{a.hourly_cost:.4f} USD/h")  # fmt: skip
        facts |= {f"{a.name}_instances": a.instances, f"{a.name}_hourly": a.hourly_cost}
    return Answer(
        agent="application", text="\n".join(lines), facts=facts, data={"applications": dump(apps[:50])}
    )
