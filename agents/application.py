"""The application specialist. Reviews: can each service ride out the change, and would we see if not?"""

from __future__ import annotations

from agents.review import Approval, ReviewPolicy, RolloutPlan, verdict
from tools.provider import CloudProvider

# Other services depend on these tiers: losing one hurts every caller, so they do not go to spot.
DEPENDENCY_TIERS = frozenset({"database", "cache"})
# Work that loses its progress when the machine is reclaimed.
SPOT_INTOLERANT_TIERS = frozenset({"training"})


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy) -> Approval:
    """Statefulness, replicas, dependencies and spot tolerance per change; and per application, whether its
    quality is steady enough for the rollout's guard to notice a regression."""
    vetoes: dict[str, str] = {}
    confidences = []
    for c in plan.changes:
        base = plan.baselines.get(c.application or "")
        production = c.environment == "production"
        reason = None
        if c.action == "migrate-to-spot":
            needed = policy.production_spot_min_replicas if production else policy.spot_min_replicas
            if c.stateful:
                reason = "stateful: its data lives on the machine"
            elif c.tier in DEPENDENCY_TIERS:
                reason = f"a {c.tier}: other services depend on it"
            elif c.tier in SPOT_INTOLERANT_TIERS:
                reason = f"{c.tier} work loses its progress when reclaimed"
            elif c.replicas < needed:
                reason = f"{c.replicas} replica(s): needs {needed} to ride out an interruption"
        elif production and c.replicas < 2:
            reason = "the only production replica: the restart a resize needs is an outage"
        if reason is None and base is not None and base.volatility_pct > policy.max_latency_increase_pct:
            reason = (
                f"{c.application}'s p95 latency moved up to {base.volatility_pct:.0f}% from one hour to "
                f"the next lately: a {policy.max_latency_increase_pct:g}% guard cannot tell a regression "
                "from that"
            )
        if reason:
            vetoes[c.instance_id] = reason
        else:
            confidences.append(round(1 - 1 / (c.replicas + 2), 3))  # more replicas, less at stake per change
    apps = {c.application for c in plan.changes}
    reasons = [f"{len(apps)} application(s) affected; baselines taken for {len(plan.baselines)}"]
    return verdict("application", plan, vetoes, confidences, reasons)
