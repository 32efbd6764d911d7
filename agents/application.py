"""The application specialist. Reviews: can each service ride out the change, and would we see if not?"""

from __future__ import annotations

from agents.review import Approval, Check, ReviewContext, ReviewPolicy, RolloutPlan, verdict
from tools.analysis.tolerance import projected_latency_increase_pct
from tools.provider import CloudProvider


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy, check: Check) -> Approval:
    """What the rollout kind asks of each service (its data, dependants, work, replicas); and, for a service
    with no peer to compare a changed machine with, whether its quality is steady enough for the guard to
    notice a regression."""
    context = ReviewContext(cloud)
    vetoes: dict[str, str] = {}
    confidences = []
    for c in plan.changes:
        base = plan.baselines.get(c.application or "")
        reason = check(c, policy, context)
        if reason is None and base is not None and base.serving == 1:
            # No peer to compare the changed machine with: the monitor compares it with the same hour of
            # the previous days. What the change is expected to cost plus how far those days disagree
            # must stay within the guard, or a good change would read as a regression.
            expected = (
                projected_latency_increase_pct(c.cpu_p95_pct, c.projected_cpu_pct)
                if c.action == "resize"
                else 0.0
            )
            if expected + base.day_to_day_pct > policy.max_latency_increase_pct:
                reason = (
                    f"too noisy to monitor: {c.application} has one machine, whose p95 latency at this hour "
                    f"moved {base.day_to_day_pct:.1f}% from one day to the next; with the {expected:.1f}% "
                    f"the change is expected to cost, a {policy.max_latency_increase_pct:g}% guard cannot "
                    "tell a regression from that"
                )
        if reason:
            vetoes[c.instance_id] = reason
        else:
            confidences.append(round(1 - 1 / (c.replicas + 2), 3))  # more replicas, less at stake per change
    apps = {c.application for c in plan.changes}
    reasons = [f"{len(apps)} application(s) affected; baselines taken for {len(plan.baselines)}"]
    return verdict("application", plan, vetoes, confidences, reasons)
