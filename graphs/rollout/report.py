"""The rollout's report, from its final state alone: a resumed run reports what an uninterrupted one does."""

from __future__ import annotations

from agents.review import RolloutPlan
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import ChangeResult, QualityCheck, RolloutReport, RolloutState, Status, WaveSummary
from graphs.rollout.savings import MeasuredSavings


def kept_changes(state: RolloutState) -> list[ChangeResult]:
    """The changes made and not undone."""
    reverted = {r.instance_id: r for r in state.get("rolled_back", [])}
    return [
        r
        for w in state.get("waves", [])
        for r in w.results
        if r.ok and not (r.instance_id in reverted and reverted[r.instance_id].ok)
    ]


def build_report(
    state: RolloutState,
    plan: RolloutPlan | None,
    status: Status,
    reason: str,
    measured: MeasuredSavings | None = None,
) -> RolloutReport:
    waves = state.get("waves", [])
    checks = {c.number: c for c in state.get("checks", [])}
    results = [r for w in waves for r in w.results]
    reverted = {r.instance_id: r for r in state.get("rolled_back", [])}
    kept = kept_changes(state)
    failed = {r.instance_id: r.error or "failed" for r in results if not r.ok}
    failed |= {f"{iid} (rollback)": r.error or "failed" for iid, r in reverted.items() if not r.ok}
    vetoed = {
        iid: f"vetoed by {a.agent}: {why}"
        for a in state.get("approvals", [])
        for iid, why in a.vetoes.items()
    }
    approved = state.get("approved", [])
    decision = state.get("decision")
    dropped: dict[str, str] = {}
    if plan and decision:
        why = {"approve": f"left out by {decision.by}", "reject": f"rejected by {decision.by}"}.get(
            decision.decision, "the approval request expired"
        )
        accounted = set(vetoed) | set(approved)
        dropped = {c.instance_id: why for c in plan.changes if c.instance_id not in accounted}
    summaries = []
    for w in waves:
        check = checks.get(w.number)
        summaries.append(
            WaveSummary(
                number=w.number,
                instances=len(w.results),
                changed=len(w.results) - w.failed,
                failed=w.failed,
                started_at=w.started_at,
                finished_at=w.finished_at,
                max_latency_change_pct=worst_latency(check.checks) if check else 0.0,
                max_error_rate_change_pt=worst_errors(check.checks) if check else 0.0,
                degraded=bool(check and check.degraded),
            )
        )
    return RolloutReport(
        workflow_id=state["workflow_id"],
        kind=state["kind"],
        status=status,
        instances_analyzed=plan.instances_analyzed if plan else 0,
        opportunities=plan.opportunities if plan else 0,
        planned=len(plan.changes) if plan else 0,
        approvals=sorted(state.get("approvals", []), key=lambda a: a.agent),
        decided_by=decision.by if decision else None,
        approved=approved,
        waves=summaries,
        changed=[r.instance_id for r in kept],
        replacements={r.instance_id: r.current_id for r in kept if r.current_id != r.instance_id},
        rolled_back=[iid for iid, r in reverted.items() if r.ok],
        failed=failed,
        skipped={**(plan.skipped if plan else {}), **vetoed, **dropped},
        monthly_savings=round(sum(r.monthly_savings for r in kept), 2),
        measured_monthly_savings=measured.monthly_savings if measured else None,
        savings_measurement=measured.note if measured else "not measured",
        success_rate=round(len(kept) / len(approved), 4) if approved else 1.0,
        max_latency_change_pct=max((s.max_latency_change_pct for s in summaries), default=0.0),
        max_error_rate_change_pt=max((s.max_error_rate_change_pt for s in summaries), default=0.0),
        reason=reason,
    )


def worst_latency(checks: list[QualityCheck]) -> float:
    """The largest p95 latency change among the services, % (0 when none rose)."""
    return round(max((c.latency_change_pct for c in checks), default=0.0), 2) + 0.0


def worst_errors(checks: list[QualityCheck]) -> float:
    """The largest error-rate change among the services, percentage points (0 when none rose)."""
    return round(max((c.error_rate_change_pt for c in checks), default=0.0), 3) + 0.0


def report_text(report: RolloutReport) -> str:
    """How a rollout ended, in a few sentences: what chat replies and notifications say."""
    words = {"completed": "completed", "rolled_back": "was rolled back", "rejected": "was rejected",
             "nothing_to_do": "had nothing to do", "expired": "expired",
             "cancelled": "was cancelled"}  # fmt: skip
    text = f"The {kind_of(report.kind).title} {report.workflow_id} {words[report.status]}"
    if report.waves:
        text += (
            f": {len(report.changed)} of {len(report.approved)} approved instances changed in "
            f"{len(report.waves)} waves, saving {report.monthly_savings:,.2f} USD a month by the estimate"
        )
        if report.measured_monthly_savings is not None and report.changed:
            text += f" ({report.measured_monthly_savings:,.2f} USD measured on the bill)"
        if report.rolled_back:
            text += f"; {len(report.rolled_back)} rolled back"
        if report.failed:
            text += f"; {len(report.failed)} failed"
    return f"{text}. {report.reason[:1].upper()}{report.reason[1:]}."
