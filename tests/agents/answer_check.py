"""The answer evaluation's judge: what the reply to an operator's question must say, computed from the
simulator's own REST API (costs, counts, prices: raw data) or from the ledger (savings, derived), never from
the answer's own findings.

A case (one line of answer_eval.jsonl) names the question, the agent that must answer, the scope words the
reply's first line must carry, and the figure; `thread` holds earlier messages of the conversation, and
`order` marks a request that may start a rollout (every other must not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from agents.narrative import states
from tools.analysis.ledger import read_ledger
from tools.models import InstanceFilter
from tools.provider import CloudProvider


@dataclass
class Case:
    q: str
    agent: str
    part: str
    scope: list[str] = field(default_factory=list)
    figure: dict[str, Any] | None = None
    thread: list[str] = field(default_factory=list)
    order: bool = False


@dataclass
class Verdict:
    case: Case
    reply: str
    agent: str
    problems: list[str]

    @property
    def right(self) -> bool:
        return not self.problems


def _filters(spec: dict[str, Any]) -> dict[str, Any]:
    tags = spec.get("tags", {})
    return {k: v for k, v in spec.items() if k in ("provider", "region", "application") and v} | (
        {"tag": [f"{k}={v}" for k, v in tags.items()]} if tags else {}
    )


async def expected(figure: dict[str, Any], api: httpx.AsyncClient, cloud: CloudProvider) -> list[float]:
    """The numbers the reply must state."""
    if "costs" in figure:
        spec = figure["costs"]
        params = {"days": spec.get("days", 30), **_filters(spec)}
        params |= {"until": spec["until"]} if "until" in spec else {}
        params |= {"group_by": spec["group_by"]} if "group_by" in spec else {}
        body = (await api.get("/costs", params=params)).raise_for_status().json()
        if "key" in spec:  # one group of a breakdown: the scope the question named
            return [next((g["amount"] for g in body["groups"] if g["key"] == spec["key"]), 0.0)]
        ranked = sorted(body["groups"], key=lambda g: -g["amount"])
        return [body["total"], *(g["amount"] for g in ranked[: spec.get("top", 0)])]
    if "count" in figure:
        spec = figure["count"]
        params = _filters(spec) | {k: spec[k] for k in ("state", "pricing_model") if k in spec}
        found = (await api.get("/instances", params=params | {"limit": 10_000})).raise_for_status().json()
        if "instance_type" in spec:
            return [sum(1 for i in found["instances"] if i["instance_type"] == spec["instance_type"])]
        return [found["total"]]
    if "price" in figure:
        spec = figure["price"]
        params = {"provider": spec["provider"]} | ({"region": spec["region"]} if "region" in spec else {})
        offers = (await api.get("/catalog", params=params)).raise_for_status().json()
        offer = next(o for o in offers if o["name"] == spec["type"])
        return [offer[spec.get("field", "on_demand_hourly")]]
    if "quality" in figure:  # an application's latest p95 latency and error rate over the last hour
        name = figure["quality"]["application"]
        q = (await api.get(f"/applications/{name}/quality", params={"minutes": 60})).raise_for_status().json()
        return [round(q["p95_latency_ms"][-1], 1), round(q["error_rate"][-1] * 100, 2), q["serving_replicas"]]
    if "applications" in figure:
        spec = figure["applications"]
        apps = (await api.get("/applications")).raise_for_status().json()
        return [sum(1 for a in apps if all(a[k] == v for k, v in spec.items()) and a["instance_ids"])]
    if "ledger" in figure:
        spec = figure["ledger"]
        named = {k: v for k, v in spec.items() if k in ("provider", "region", "application")}
        scope = InstanceFilter(**named, tags=spec.get("tags", {}))
        ledger = read_ledger(cloud, scope, spec["kinds"])
        if spec.get("field") == "under_provisioned":
            return [len(ledger.under_provisioned)]
        summary = ledger.summary
        return [summary.recommendations, summary.monthly_savings][: 1 if spec.get("field") == "count" else 2]
    raise ValueError(f"unknown figure {figure}")


async def judge(
    case: Case, reply: str, agent: str, api: httpx.AsyncClient, cloud: CloudProvider, started: int
) -> Verdict:
    problems = []
    if agent != case.agent:
        problems.append(f"answered by {agent}, not {case.agent}")
    first = reply.splitlines()[0] if reply else ""
    missing = [w for w in case.scope if w.lower() not in first.lower()]
    if missing:
        problems.append(f"scope {missing} not said")
    if case.figure is not None:
        if case.figure.get("refuse"):
            if not reply.startswith("I can't"):
                problems.append("not refused")
        else:
            for value in await expected(case.figure, api, cloud):
                if not states(reply, value):
                    problems.append(f"figure {value} not stated")
    if started and not case.order:
        problems.append(f"a question started {started} rollout(s)")
    return Verdict(case, reply, agent, problems)
