"""Idle machines: almost no CPU and almost no network for a week (Azure Advisor, GCP idle-VM recommender)."""

from __future__ import annotations

import numpy as np

from tools.analysis.recommendation import Recommendation, RiskLevel, clamp, recommend_for
from tools.analysis.settings import HOURS_PER_MONTH, IdleSettings
from tools.analysis.snapshot import FleetSnapshot


def idle(snapshot: FleetSnapshot, settings: IdleSettings | None = None) -> list[Recommendation]:
    settings = settings or IdleSettings()
    cpu_a, network_a = snapshot.idle_cpu_p95, snapshot.idle_network_mbps
    observed_a = snapshot.idle_observed_hours
    watched = (snapshot.age_days * 24 >= settings.lookback_hours) & (
        observed_a >= settings.lookback_hours * settings.min_observed_fraction
    )
    is_idle = watched & (cpu_a < settings.cpu_p95_pct) & (network_a < settings.network_mean_mbps)
    cpu, network, observed = cpu_a.tolist(), network_a.tolist(), observed_a.tolist()
    hourly, uptime = snapshot.hourly.tolist(), snapshot.idle_uptime.tolist()
    out = []
    for row in np.flatnonzero(is_idle).tolist():
        inst = snapshot.instances[row]
        environment = inst.tags.get("environment", "unknown")
        disposable = environment in settings.terminate_environments and inst.tags.get("stateful") != "true"
        # Terminating loses the disk and cannot be undone: only for disposable environments; stop elsewhere.
        action = "terminate" if disposable else "stop"
        risk: RiskLevel = "medium" if disposable else "low"
        risk_score = 0.5 if disposable else 0.2
        if environment == "production" and not disposable:
            risk, risk_score = "medium", 0.4  # someone may still rely on it
        confidence = clamp(observed[row] / settings.lookback_hours, 0, 1) * (
            1 - 0.5 * cpu[row] / settings.cpu_p95_pct
        )
        out.append(
            recommend_for(
                inst,
                kind="idle",
                finding="idle",
                action=action,
                current="running",
                target="terminated" if action == "terminate" else "stopped",
                monthly_savings=round(hourly[row] * HOURS_PER_MONTH * uptime[row], 2),
                risk=risk,
                risk_score=risk_score,
                confidence=round(confidence, 3),
                reasons=[
                    f"P95 CPU {cpu[row]:.2f}% (< {settings.cpu_p95_pct:g}%) and mean network "
                    f"{network[row] * 1000:.1f} kbit/s (< {settings.network_mean_mbps * 1000:g}) over "
                    f"{observed[row]:.0f} h",
                    f"{environment} environment: {action} saves its compute, {hourly[row]:.4f} USD/h",
                ],
            )
        )
    return out
