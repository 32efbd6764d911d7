"""A rollout's plan: the analysis engines' recommendations for a scope, as changes the agents can review."""

from __future__ import annotations

import math
from dataclasses import replace

from agents.review import Change, RolloutKind, RolloutPlan
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import RolloutSettings, Scope
from graphs.rollout.quality import baseline
from tools.analysis.kinds import STORAGE_KINDS
from tools.analysis.ledger import entries, storage_ledger
from tools.analysis.recommendation import Recommendation
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import FleetSnapshot, collect
from tools.analysis.storage import collect_storage
from tools.errors import UnsupportedOperationError
from tools.provider import CloudProvider


def make_plan(
    cloud: CloudProvider,
    kind: RolloutKind,
    scope: Scope,
    settings: RolloutSettings,
    analysis: AnalysisSettings | None = None,
) -> RolloutPlan:
    """The changes the kind carries out (tools/analysis' advice the kind chooses: money-saving ones, or for
    upsizing the machines to size up), best first, with a quality baseline per affected application."""
    spec = kind_of(kind)
    # The recommender sizes changes against this rollout's own guard, as its reviewers will judge them.
    analysis = replace(analysis or AnalysisSettings(), guard=settings.review_policy())
    if spec.recommendation in STORAGE_KINDS:
        return _storage_plan(cloud, kind, scope, settings, analysis)
    snapshot = collect(cloud, scope.filter(), analysis, hourly=spec.recommendation == "off_hours")
    wanted = set(scope.instance_ids)
    # The ledger's opportunities, as chat and `recommend` list them: what is planned is what was advised.
    found = entries(snapshot, [spec.recommendation], analysis, scope.instance_ids)
    pool = found.under_provisioned if spec.spends else found.opportunities
    saving = [r for r in pool if spec.chooses(r)]
    # Past max_changes only a count survives (`opportunities`): a plan grows with its rollout, not the fleet.
    chosen = saving[: settings.max_changes] if settings.max_changes else saving
    skipped: dict[str, str] = {}
    if wanted:
        analysed = {i.id for i in snapshot.instances}
        advised = {r.instance_id for r in saving}
        for iid in sorted(wanted - advised):
            skipped[iid] = (
                f"no {spec.title} recommendation for it"
                if iid in analysed
                else "not a running instance in the scope"
            )
    changes = _changes(snapshot, chosen, spec.action)
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


def _changes(snapshot: FleetSnapshot, recommendations: list[Recommendation], action: str) -> list[Change]:
    row = {inst.id: k for k, inst in enumerate(snapshot.instances)}
    cpu, uptime = snapshot.cpu(95.0), snapshot.uptime
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
                action=action,
                instance_type=inst.instance_type,
                current=r.current,
                target="stopped" if action == "stop" else r.target,
                monthly_savings=r.monthly_savings,
                uptime=round(float(uptime[k]), 4),
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


def _storage_plan(
    cloud: CloudProvider,
    kind: RolloutKind,
    scope: Scope,
    settings: RolloutSettings,
    analysis: AnalysisSettings,
) -> RolloutPlan:
    """A plan for volumes, snapshots, addresses or buckets: the ledger's opportunities of the kind, each
    watched through the machine it serves (a volume in use), if any."""
    spec = kind_of(kind)
    now = cloud.now()
    inventory = collect_storage(cloud, scope.filter(), [spec.recommendation], now)
    if inventory.notes:
        raise UnsupportedOperationError("; ".join(inventory.notes), provider=cloud.name)
    found = storage_ledger(inventory, [spec.recommendation], analysis, scope.instance_ids)
    saving = [r for r in found.opportunities if spec.chooses(r)]
    chosen = saving[: settings.max_changes] if settings.max_changes else saving
    tags_of: dict[str, dict[str, str]] = {v.id: v.tags for v in inventory.volumes}
    tags_of |= {s.id: s.tags for s in inventory.snapshots} | {a.id: a.tags for a in inventory.addresses}
    tags_of |= {b.name: b.tags for b in inventory.buckets}
    machine_of = {v.id: v.attached_to for v in inventory.volumes}
    machines = (
        {i.id: i for i in cloud.list_instances(scope.filter())}
        if spec.recommendation == "volume_type"
        else {}
    )
    changes = []
    for r in chosen:
        tags = tags_of.get(r.instance_id, {})
        machine = machine_of.get(r.instance_id)
        serving = machines.get(machine) if machine else None
        changes.append(
            Change(
                instance_id=r.instance_id,
                resource=r.resource,
                machine=machine,
                # Only a machine's service is watched: a detached volume, a snapshot or an idle address
                # serves nobody (its application tag names a former owner).
                application=serving.application if serving else None,
                provider=r.provider,
                region=r.region,
                action=spec.action,
                instance_type=r.current,
                current=r.current,
                target=r.target,
                monthly_savings=r.monthly_savings,
                risk=r.risk,
                confidence=r.confidence,
                environment=tags.get("environment", ""),
                tier=tags.get("tier", serving.tags.get("tier", "") if serving else ""),
                stateful=(serving.tags.get("stateful") == "true") if serving else False,
                replicas=int(serving.tags.get("replicas", "1")) if serving else 0,
            )
        )
    skipped: dict[str, str] = {}
    advised = {r.instance_id for r in saving}
    for rid in sorted(set(scope.instance_ids) - advised):
        skipped[rid] = f"no {spec.title} recommendation for it" if rid in tags_of else "not in the scope"
    apps = sorted({c.application for c in changes if c.application})
    return RolloutPlan(
        kind=kind,
        created_at=now,
        instances_analyzed=found.volumes_analysed
        + found.snapshots_analysed
        + found.addresses_analysed
        + found.buckets_analysed,
        opportunities=len(saving),
        changes=changes,
        skipped=skipped,
        baselines={a: baseline(cloud, a, now, settings.observe_minutes) for a in apps},
    )
