"""Rightsizing in the manner of AWS Compute Optimizer: the cheapest type of the same family whose capacity
covers the chosen percentile of CPU and memory plus headroom; too-small instances get a bigger type."""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from tools.analysis.recommendation import Recommendation, risk_level
from tools.analysis.settings import HOURS_PER_MONTH, RightsizingSettings
from tools.analysis.snapshot import FleetSnapshot
from tools.models import InstanceTypeOffer


class Finding(StrEnum):
    OVER = "over-provisioned"
    UNDER = "under-provisioned"
    OPTIMIZED = "optimized"
    UNKNOWN = "insufficient-data"


def rightsizing(snapshot: FleetSnapshot, settings: RightsizingSettings | None = None) -> list[Recommendation]:
    """Recommendations for over- and under-provisioned instances (optimized ones need nothing)."""
    settings = settings or RightsizingSettings()
    findings, targets = classify(snapshot, settings)
    p = float(settings.percentile)
    cpu, mem = snapshot.cpu(p), snapshot.memory(p)
    peak_cpu, peak_mem = snapshot.cpu(settings.peak_percentile), snapshot.memory(settings.peak_percentile)
    observed = snapshot.observed_hours
    out = []
    for row in np.flatnonzero((findings == Finding.OVER) | (findings == Finding.UNDER)):
        inst, target = snapshot.instances[row], targets[row]
        assert target is not None
        prices = {
            "on-demand": target.on_demand_hourly,
            "spot": target.spot_hourly,
            "reserved": target.reserved_hourly,
        }
        current_price = {
            "on-demand": snapshot.on_demand,
            "spot": snapshot.spot,
            "reserved": snapshot.reserved,
        }[inst.pricing_model][row]
        target_price = prices[inst.pricing_model]
        cpu_after = cpu[row] * inst.vcpus / target.vcpus
        mem_after = mem[row] * inst.memory_gb / target.memory_gb
        peak_after = max(
            peak_cpu[row] * inst.vcpus / target.vcpus, peak_mem[row] * inst.memory_gb / target.memory_gb
        )
        risk_score = float(np.clip((peak_after - 80.0) / 20.0, 0.0, 1.0))
        # Confidence: how much of the lookback was observed, and how steady the load is (peaks far above
        # the percentile make the percentile a weaker guide).
        steadiness = float(np.clip(1.0 - (peak_cpu[row] - cpu[row]) / 100.0, 0.5, 1.0))
        confidence = float(np.clip(observed[row] / settings.lookback_hours, 0.0, 1.0)) * steadiness
        finding = Finding(findings[row])
        need_cpu = cpu[row] / 100 * inst.vcpus * (1 + settings.headroom)
        need_mem = mem[row] / 100 * inst.memory_gb * (1 + settings.headroom)
        out.append(
            Recommendation(
                instance_id=inst.id,
                provider=inst.provider,
                region=inst.region,
                application=inst.application,
                kind="rightsize",
                finding=finding.value,
                action="resize",
                current=inst.instance_type,
                target=target.name,
                monthly_savings=round((current_price - target_price) * HOURS_PER_MONTH, 2),
                risk=risk_level(risk_score),
                risk_score=round(risk_score, 3),
                confidence=round(confidence, 3),
                reasons=[
                    f"P{p:g} CPU {cpu[row]:.1f}% of {inst.vcpus} vCPUs and P{p:g} memory {mem[row]:.1f}% of "
                    f"{inst.memory_gb:g} GB over {observed[row]:.0f} h",
                    f"with {settings.headroom:.0%} headroom: {need_cpu:.2f} vCPUs and {need_mem:.1f} GB",
                    f"{target.name} ({target.vcpus} vCPUs, {target.memory_gb:g} GB) costs "
                    f"{target_price:.4f} USD/h against {current_price:.4f} ({inst.pricing_model})",
                    f"projected P{p:g} CPU {cpu_after:.1f}%, memory {mem_after:.1f}%; "
                    f"busiest hours (P{settings.peak_percentile:g}) {peak_after:.1f}%",
                ],
                projected_cpu_pct=round(float(cpu_after), 2),
                projected_memory_pct=round(float(mem_after), 2),
            )
        )
    return out


def classify(
    snapshot: FleetSnapshot, settings: RightsizingSettings
) -> tuple[npt.NDArray[np.str_], list[InstanceTypeOffer | None]]:
    """Each instance's finding and, where one applies, its target offer. Vectorised per type family."""
    n = len(snapshot.instances)
    p = float(settings.percentile)
    cpu, mem = snapshot.cpu(p), snapshot.memory(p)
    need_cpu = cpu / 100 * snapshot.vcpus * (1 + settings.headroom)
    need_mem = mem / 100 * snapshot.memory_gb * (1 + settings.headroom)
    known = (snapshot.observed_hours >= settings.min_observed_hours) & ~np.isnan(cpu) & ~np.isnan(mem)
    under = known & ((cpu >= settings.under_provisioned_pct) | (mem >= settings.under_provisioned_pct))
    findings = np.where(known, Finding.OPTIMIZED.value, Finding.UNKNOWN.value).astype("<U20")
    findings[under] = Finding.UNDER.value
    targets: list[InstanceTypeOffer | None] = [None] * n
    groups: dict[tuple[str, str, str, int], list[int]] = defaultdict(list)
    for row in np.flatnonzero(known):
        inst, offer = snapshot.instances[row], snapshot.offer[row]
        groups[(inst.provider, inst.region, offer.family, offer.gpu_count)].append(int(row))
    for (provider, region, family, gpus), rows_list in groups.items():
        offers = [
            o for o in snapshot.offers[(provider, region)] if o.family == family and o.gpu_count == gpus
        ]
        if not offers:
            continue
        rows = np.asarray(rows_list)
        vcpus = np.asarray([o.vcpus for o in offers], np.float64)
        memory = np.asarray([o.memory_gb for o in offers], np.float64)
        price = np.asarray([o.on_demand_hourly for o in offers])  # offers come cheapest first
        fits = (vcpus[None, :] >= need_cpu[rows, None]) & (memory[None, :] >= need_mem[rows, None])
        cheapest = np.where(fits.any(axis=1), fits.argmax(axis=1), int(np.argmax(vcpus)))
        for row, choice in zip(rows, cheapest, strict=True):
            target = offers[choice]
            if under[row]:
                if (
                    target.name != snapshot.instances[row].instance_type
                    and target.vcpus >= snapshot.vcpus[row]
                ):
                    targets[row] = target
                else:
                    findings[row] = Finding.OPTIMIZED.value  # already the family's largest
            elif price[choice] < snapshot.on_demand[row] * (1 - settings.min_savings_fraction):
                findings[row], targets[row] = Finding.OVER.value, target
    return findings, targets
