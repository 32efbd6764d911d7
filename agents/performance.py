"""The performance specialist. Reviews: will the changed machines still have the headroom to serve?"""

from __future__ import annotations

from agents.review import Approval, Change, ReviewPolicy, RolloutPlan, verdict
from tools.provider import CloudProvider

# Past this share of a CPU, queueing delay explodes; the approximation is capped there.
_SATURATION = 0.98


def queueing_factor(cpu_pct: float) -> float:
    """Latency relative to an idle machine: queueing delay grows as ρ²/(1-ρ) with utilisation ρ."""
    rho = min(max(cpu_pct / 100, 0.0), _SATURATION)
    return 1 + 0.5 * rho**2 / (1 - rho)


def projected_latency_increase_pct(change: Change) -> float:
    """How much the p95 latency of the machine's share of traffic rises when its utilisation changes."""
    return (queueing_factor(change.projected_cpu_pct) / queueing_factor(change.cpu_p95_pct) - 1) * 100


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy) -> Approval:
    """Resizes: projected P95 CPU and memory, and the latency that follows. Spot: the peers' headroom to
    carry a reclaimed replica's load until its replacement boots."""
    vetoes: dict[str, str] = {}
    confidences = []
    worst = 0.0
    for c in plan.changes:
        if c.action == "resize":
            latency = projected_latency_increase_pct(c)
            if c.projected_cpu_pct > policy.max_cpu_pct:
                vetoes[c.instance_id] = (
                    f"projected P95 CPU {c.projected_cpu_pct:.0f}% > {policy.max_cpu_pct:.0f}%"
                )
            elif c.projected_memory_pct > policy.max_memory_pct:
                vetoes[c.instance_id] = (
                    f"projected P95 memory {c.projected_memory_pct:.0f}% > {policy.max_memory_pct:.0f}%"
                )
            elif latency > policy.max_latency_increase_pct:
                vetoes[c.instance_id] = (
                    f"projected p95 latency +{latency:.1f}% exceeds the rollout's "
                    f"{policy.max_latency_increase_pct:g}% quality guard"
                )
            else:
                worst = max(worst, latency)
                confidences.append(c.confidence)
        else:
            peers = c.replicas - 1
            peer_cpu = c.cpu_p95_pct * c.replicas / peers if peers else float("inf")
            if peer_cpu > policy.max_peer_cpu_pct:
                vetoes[c.instance_id] = (
                    f"{peers} peer(s) would run at P95 CPU {peer_cpu:.0f}% while a reclaimed replica reboots"
                )
            else:
                confidences.append(c.confidence)
    reasons = (
        [f"worst projected p95 latency change +{worst:.1f}% (guard {policy.max_latency_increase_pct:g}%)"]
        if plan.kind == "rightsizing"
        else ["same instance types: utilisation unchanged; peers can absorb a reclaimed replica"]
    )
    conditions = [f"p95 latency and error rate within +{policy.max_latency_increase_pct:g}% after each wave"]
    return verdict("performance", plan, vetoes, confidences, reasons, conditions)
