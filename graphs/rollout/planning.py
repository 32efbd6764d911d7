"""A rollout's plan: the analysis engines' recommendations for a scope, as changes the agents can review."""

from __future__ import annotations

import math
from dataclasses import replace

from agents.review import Change, RolloutKind, RolloutPlan
from graphs.rollout.models import RolloutSettings, Scope
from graphs.rollout.quality import baseline
from tools.analysis.ledger import entries
from tools.analysis.recommendation import Kind, Recommendation
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import FleetSnapshot, collect
from tools.provider import CloudProvider

ANALYSIS_KIND: dict[RolloutKind, Kind] = {"spot_migration": "spot", "rightsizing": "rightsize"}


def make_plan(
    cloud: CloudProvider,
    kind: RolloutKind,
    scope: Scope,
    settings: RolloutSettings,
    analysis: AnalysisSettings | None = None,
) -> RolloutPlan:
    """Changes that save money, best first, with a quality baseline per affected application.

    Rightsizing keeps only downsizing: an under-provisioned machine needs more money, not a cost rollout.
    """
    # The recommender sizes changes against this rollout's own guard, as its reviewers will judge them.
    analysis = replace(analysis or AnalysisSettings(), guard=settings.review_policy())
    snapshot = collect(cloud, scope.filter(), analysis)
    wanted = set(scope.instance_ids)
    # The ledger's opportunities, as chat and `recommend` list them: what is planned is what was advised.
    found = entries(snapshot, [ANALYSIS_KIND[kind]], analysis, scope.instance_ids)
    saving = found.opportunities
    # Past max_changes only a count survives (`opportunities`): a plan grows with its rollout, not the fleet.
    chosen = saving[: settings.max_changes] if settings.max_changes else saving
    skipped: dict[str, str] = {}
    if wanted:
        analysed = {i.id for i in snapshot.instances}
        advised = {r.instance_id for r in saving}
        for iid in sorted(wanted - advised):
            skipped[iid] = (
                f"no money-saving {ANALYSIS_KIND[kind]} recommendation for it"
                if iid in analysed
                else "not a running instance in the scope"
            )
    changes = _changes(snapshot, chosen)
    apps = sorted({c.application for c in changes if c.application})
    now = snapshot.now
    return RolloutPlan(
        kind=kind,
        created_at=now,
        instances_analyzed=found.instances_analysed,
        opportunities=len(saving),
        changes=changes,
        skipped=skipped,
        baselines={a: baseline(cloud, a, now, settings.observe_minutes) for a in apps},
    )


def _changes(snapshot: FleetSnapshot, recommendations: list[Recommendation]) -> list[Change]:
    row = {inst.id: k for k, inst in enumerate(snapshot.instances)}
    cpu = snapshot.cpu(95.0)
    out = []
    for r in recommendations:
        k = row[r.instance_id]
        inst, offer = snapshot.instances[k], snapshot.offer[k]
        current_cpu = 0.0 if math.isnan(cpu[k]) else float(cpu[k])
        out.append(
            Change(
                instance_id=r.instance_id,
                application=r.application,
                provider=r.provider,
                region=r.region,
                action="resize" if r.kind == "rightsize" else "migrate-to-spot",
                instance_type=inst.instance_type,
                current=r.current,
                target=r.target,
                monthly_savings=r.monthly_savings,
                risk=r.risk,
                confidence=r.confidence,
                cpu_p95_pct=round(current_cpu, 2),
                projected_cpu_pct=r.projected_cpu_pct
                if r.projected_cpu_pct is not None
                else round(current_cpu, 2),
                projected_memory_pct=r.projected_memory_pct or 0.0,
                projected_peak_cpu_pct=r.projected_peak_cpu_pct or 0.0,
                replicas=int(inst.tags.get("replicas", "1")),
                environment=inst.tags.get("environment", ""),
                tier=inst.tags.get("tier", ""),
                stateful=inst.tags.get("stateful") == "true",
                interruption_band=offer.interruption_band,
            )
        )
    return out
