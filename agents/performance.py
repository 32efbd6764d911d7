"""The performance specialist. Reviews: will the changed machines still have the headroom to serve?"""

from __future__ import annotations

from agents.review import Approval, ReviewPolicy, RolloutPlan, verdict
from tools.analysis.tolerance import projected_latency_increase_pct, resize_veto, spot_peer_veto
from tools.provider import CloudProvider


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy) -> Approval:
    """Resizes: projected P95 CPU and memory, and the latency that follows. Spot: the peers' headroom to
    carry a reclaimed replica's load until its replacement boots. The recommender applied the same checks
    (tools/analysis/tolerance.py); a veto here means the cloud moved since, or a person edited the plan."""
    vetoes: dict[str, str] = {}
    confidences = []
    worst = 0.0
    for c in plan.changes:
        if c.action == "resize":
            reason = resize_veto(
                c.cpu_p95_pct, c.projected_cpu_pct, c.projected_memory_pct, c.projected_peak_cpu_pct, policy
            )
            if reason is None:
                worst = max(worst, projected_latency_increase_pct(c.cpu_p95_pct, c.projected_cpu_pct))
        else:
            reason = spot_peer_veto(c.cpu_p95_pct, c.replicas, policy)
        if reason:
            vetoes[c.instance_id] = reason
        else:
            confidences.append(c.confidence)
    reasons = (
        [f"worst projected p95 latency change +{worst:.1f}% (guard {policy.max_latency_increase_pct:g}%)"]
        if plan.kind == "rightsizing"
        else ["same instance types: utilisation unchanged; peers can absorb a reclaimed replica"]
    )
    conditions = [f"p95 latency and error rate within +{policy.max_latency_increase_pct:g}% after each wave"]
    return verdict("performance", plan, vetoes, confidences, reasons, conditions)
