"""The resource specialist. Reviews: is the capacity there, and is it the kind that stays?"""

from __future__ import annotations

from agents.review import Approval, ReviewPolicy, RolloutPlan, verdict
from tools.analysis.tolerance import spot_band_veto
from tools.models import InstanceFilter, InstanceTypeOffer
from tools.provider import CloudProvider

# How sure the capacity is to stay, by spot interruption band (AWS Spot Instance Advisor's bands).
_BAND_CONFIDENCE = {"<5%": 0.95, "5-10%": 0.9, "10-15%": 0.8, "15-20%": 0.7, ">20%": 0.5}


def review(plan: RolloutPlan, cloud: CloudProvider, policy: ReviewPolicy) -> Approval:
    """Each instance must still be running as planned; a resize target must be sold in its region with the
    same GPUs; a spot type must be interrupted rarely enough (stricter in production)."""
    running = {
        i.id: i for i in cloud.list_instances(InstanceFilter(state="running")) if i.replaced_by is None
    }
    offers: dict[tuple[str, str], dict[str, InstanceTypeOffer]] = {}
    vetoes: dict[str, str] = {}
    confidences = []
    for c in plan.changes:
        inst = running.get(c.instance_id)
        if inst is None or inst.instance_type != c.instance_type:
            vetoes[c.instance_id] = "no longer running as planned (stopped, replaced or resized since)"
            continue
        sold = offers.get((c.provider, c.region))
        if sold is None:
            sold = offers[(c.provider, c.region)] = {
                o.name: o for o in cloud.instance_types(c.provider, c.region)
            }
        if c.action == "resize":
            target, now = sold.get(c.target), sold.get(c.instance_type)
            if target is None:
                vetoes[c.instance_id] = f"{c.target} is not offered in {c.provider} {c.region}"
            elif now is not None and target.gpu_count != now.gpu_count:
                vetoes[c.instance_id] = (
                    f"{c.target} has {target.gpu_count} GPUs, {c.instance_type} {now.gpu_count}"
                )
            else:
                confidences.append(0.95)
            continue
        offer = sold.get(c.instance_type)
        band = offer.interruption_band if offer else ">20%"
        if reason := spot_band_veto(band, c.environment == "production", policy):
            vetoes[c.instance_id] = f"spot {c.instance_type} is {reason}"
        else:
            confidences.append(_BAND_CONFIDENCE[band])
    reasons = [f"capacity checked in {len(offers)} region(s) against the current catalog"]
    return verdict("resource", plan, vetoes, confidences, reasons)
