"""The resource specialist. Reviews: is the capacity there, and is it the kind that stays?"""

from __future__ import annotations

from agents.review import Approval, Check, ReviewContext, ReviewPolicy, RolloutPlan, verdict
from tools.models import InstanceFilter
from tools.provider import CloudProvider


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy, check: Check) -> Approval:
    """Each instance must still be running as planned; then what the rollout kind asks of resources (a
    resize target sold in its region with the same GPUs; a spot type reclaimed rarely enough; a volume,
    snapshot or address still as planned)."""
    machines = any(c.resource == "instance" for c in plan.changes)
    listed = cloud.list_instances(InstanceFilter(state="running")) if machines else []
    running = {i.id: i for i in listed if i.replaced_by is None}
    context = ReviewContext(cloud)
    vetoes: dict[str, str] = {}
    confidences = []
    for c in plan.changes:
        inst = running.get(c.instance_id)
        if c.resource == "instance" and (inst is None or inst.instance_type != c.instance_type):
            vetoes[c.instance_id] = "no longer running as planned (stopped, replaced or resized since)"
        elif reason := check(c, policy, context):
            vetoes[c.instance_id] = reason
        else:
            confidences.append(_BAND_CONFIDENCE.get(c.interruption_band, 0.5) if c.action == "migrate-to-spot"
                               else 0.95)  # fmt: skip
    reasons = [f"capacity checked in {context.regions} region(s) against the current catalog"]
    return verdict("resource", plan, vetoes, confidences, reasons)


# How sure the capacity is to stay, by spot interruption band (AWS Spot Instance Advisor's bands).
_BAND_CONFIDENCE = {"<5%": 0.95, "5-10%": 0.9, "10-15%": 0.8, "15-20%": 0.7, ">20%": 0.5}
