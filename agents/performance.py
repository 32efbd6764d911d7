"""The performance specialist. Reviews: will the changed machines still have the headroom to serve?"""

from __future__ import annotations

from agents.review import Approval, Check, ReviewContext, ReviewPolicy, RolloutPlan, verdict
from tools.analysis.tolerance import projected_latency_increase_pct
from tools.provider import CloudProvider


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy, check: Check) -> Approval:
    """What the rollout kind asks of performance (tools/analysis/tolerance.py: projected CPU, memory, the
    busiest hours and latency for a resize; the peers' headroom for a spot move). The recommender applied
    the same checks: a veto here means the cloud moved since, or a person edited the plan."""
    context = ReviewContext(cloud)
    vetoes: dict[str, str] = {}
    confidences = []
    latencies = []
    for c in plan.changes:
        if reason := check(c, policy, context):
            vetoes[c.instance_id] = reason
            continue
        confidences.append(c.confidence)
        if c.action == "resize":
            latencies.append(projected_latency_increase_pct(c.cpu_p95_pct, c.projected_cpu_pct))
    reasons = (
        [
            f"worst projected p95 latency change {max(latencies):+.1f}% "
            f"(guard {policy.max_latency_increase_pct:g}%)"
        ]  # fmt: skip
        if latencies
        else ["the machines' utilisation does not rise; their peers can absorb a lost replica"]
    )
    conditions = [f"p95 latency and error rate within +{policy.max_latency_increase_pct:g}% after each wave"]
    return verdict("performance", plan, vetoes, confidences, reasons, conditions)
