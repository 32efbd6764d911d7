"""Idle machines: almost no CPU and almost no network for a week (Azure Advisor, GCP idle-VM recommender)."""

from __future__ import annotations

import numpy as np

from tools.analysis.recommendation import Recommendation
from tools.analysis.settings import HOURS_PER_MONTH, IdleSettings
from tools.analysis.snapshot import FleetSnapshot


def idle(snapshot: FleetSnapshot, settings: IdleSettings | None = None) -> list[Recommendation]:
    settings = settings or IdleSettings()
    cpu, network = snapshot.idle_cpu_p95, snapshot.idle_network_mbps
    observed = snapshot.idle_observed_hours
    watched = observed >= settings.lookback_hours * settings.min_observed_fraction
    is_idle = watched & (cpu < settings.cpu_p95_pct) & (network < settings.network_mean_mbps)
    out = []
    for row in np.flatnonzero(is_idle):
        inst = snapshot.instances[row]
        environment = inst.tags.get("environment", "unknown")
        disposable = environment in settings.terminate_environments and inst.tags.get("stateful") != "true"
        # Terminating loses the disk and cannot be undone: only for disposable environments; stop elsewhere.
        action, risk, risk_score = ("terminate", "medium", 0.5) if disposable else ("stop", "low", 0.2)
        if environment == "production" and not disposable:
            risk, risk_score = "medium", 0.4  # someone may still rely on it
        confidence = float(np.clip(observed[row] / settings.lookback_hours, 0, 1)) * (
            1 - 0.5 * cpu[row] / settings.cpu_p95_pct
        )
        out.append(
            Recommendation(
                instance_id=inst.id,
                provider=inst.provider,
                region=inst.region,
                application=inst.application,
                kind="idle",
                finding="idle",
                action=action,
                current="running",
                target="terminated" if action == "terminate" else "stopped",
                monthly_savings=round(snapshot.hourly[row] * HOURS_PER_MONTH, 2),
                risk=risk,
                risk_score=risk_score,
                confidence=round(confidence, 3),
                reasons=[
                    f"P95 CPU {cpu[row]:.2f}% (< {settings.cpu_p95_pct:g}%) and mean network "
                    f"{network[row] * 1000:.1f} kbit/s (< {settings.network_mean_mbps * 1000:g}) over "
                    f"{observed[row]:.0f} h",
                    f"{environment} environment: {action} saves its compute, "
                    f"{snapshot.hourly[row]:.4f} USD/h",
                ],
            )
        )
    return out
