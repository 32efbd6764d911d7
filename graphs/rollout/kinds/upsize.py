"""Upsizing: an under-provisioned machine gets a larger type (stop, resize, start), as rightsizing does it
the other way. It costs money, so a person always approves it, with the increase stated; the reviewers check
that the larger type does relieve the machine."""

from __future__ import annotations

from agents.review import Change, ReviewContext, ReviewPolicy
from graphs.rollout.kinds import RolloutKindSpec, rightsizing


def performance(c: Change, policy: ReviewPolicy, context: ReviewContext) -> str | None:
    if c.projected_cpu_pct >= c.cpu_p95_pct and c.projected_memory_pct >= policy.max_memory_pct:
        return f"{c.target} would not relieve it: P95 CPU {c.cpu_p95_pct:.0f}% → {c.projected_cpu_pct:.0f}%"
    if c.projected_cpu_pct > policy.max_cpu_pct:
        return f"projected P95 CPU {c.projected_cpu_pct:.0f}% > {policy.max_cpu_pct:.0f}% even on {c.target}"
    return None


KIND = RolloutKindSpec(
    name="upsize",
    title="upsizing",
    recommendation="rightsize",
    action="resize",
    chooses=lambda r: r.monthly_savings < 0,
    apply=rightsizing.apply,
    revert=rightsizing.revert,
    checks={
        "performance": performance,
        "resource": rightsizing.resource,
        "application": rightsizing.application,
    },
    spends=True,
    summary="give under-provisioned machines a larger type; costs money, so a person always approves it",
)
