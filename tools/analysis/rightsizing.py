"""Rightsizing in the manner of AWS Compute Optimizer: the cheapest interchangeable type (same class of
category, GPUs and architecture: see `snapshot.type_group`) whose capacity covers the chosen percentile of
CPU and memory plus headroom, and whose projected utilisation and latency pass review (`tolerance`);
too-small instances get a bigger type."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

from tools.analysis.recommendation import Recommendation, clamp, recommend_for, risk_level
from tools.analysis.settings import HOURS_PER_MONTH, RightsizingSettings
from tools.analysis.snapshot import FleetSnapshot
from tools.analysis.tolerance import (
    ChangeGuard,
    highest_cpu_within_latency_guard,
    projected_latency_increase_pct,
    resize_veto,
)
from tools.models import InstanceTypeOffer


class Finding(StrEnum):
    OVER = "over-provisioned"
    UNDER = "under-provisioned"
    OPTIMIZED = "optimized"
    UNKNOWN = "insufficient-data"


def rightsizing(
    snapshot: FleetSnapshot, settings: RightsizingSettings | None = None, guard: ChangeGuard | None = None
) -> list[Recommendation]:
    """Recommendations for over- and under-provisioned instances (optimized ones need nothing), each sized
    so that review would let it through."""
    settings = settings or RightsizingSettings()
    guard = guard or ChangeGuard()
    findings, targets = classify(snapshot, settings, guard)
    p = float(settings.percentile)
    cpu, mem = snapshot.cpu(p).tolist(), snapshot.memory(p).tolist()
    peak_cpu = snapshot.cpu(settings.peak_percentile).tolist()
    peak_mem = snapshot.memory(settings.peak_percentile).tolist()
    observed, uptime = snapshot.observed_hours.tolist(), snapshot.uptime.tolist()
    prices_now = {"on-demand": snapshot.on_demand.tolist(), "spot": snapshot.spot.tolist(),
                  "reserved": snapshot.reserved.tolist()}  # fmt: skip
    out = []
    for row in np.flatnonzero((findings == Finding.OVER) | (findings == Finding.UNDER)).tolist():
        inst, target = snapshot.instances[row], targets[row]
        assert target is not None
        prices = {
            "on-demand": target.on_demand_hourly,
            "spot": target.spot_hourly,
            "reserved": target.reserved_hourly,
        }
        current_price = prices_now[inst.pricing_model][row]
        target_price = prices[inst.pricing_model]
        cpu_after = cpu[row] * inst.vcpus / target.vcpus
        mem_after = mem[row] * inst.memory_gb / target.memory_gb
        peak_after = max(
            peak_cpu[row] * inst.vcpus / target.vcpus, peak_mem[row] * inst.memory_gb / target.memory_gb
        )
        risk_score = clamp((peak_after - 80.0) / 20.0, 0.0, 1.0)
        # Confidence: how much of the lookback was observed, and how steady the load is (peaks far above
        # the percentile make the percentile a weaker guide).
        steadiness = clamp(1.0 - (peak_cpu[row] - cpu[row]) / 100.0, 0.5, 1.0)
        confidence = clamp(observed[row] / settings.lookback_hours, 0.0, 1.0) * steadiness
        peak_cpu_after = peak_cpu[row] * inst.vcpus / target.vcpus
        if resize_veto(
            round(cpu[row], 2), round(cpu_after, 2), round(mem_after, 2), round(peak_cpu_after, 2), guard
        ):
            continue  # on the guard's edge, where rounding for the plan would tip it over: not advised
        finding = Finding(findings[row])
        need_cpu = cpu[row] / 100 * inst.vcpus * (1 + settings.headroom)
        need_mem = mem[row] / 100 * inst.memory_gb * (1 + settings.headroom)
        latency = projected_latency_increase_pct(cpu[row], cpu_after)
        out.append(
            recommend_for(
                inst,
                kind="rightsize",
                finding=finding.value,
                action="resize",
                current=inst.instance_type,
                target=target.name,
                monthly_savings=round((current_price - target_price) * HOURS_PER_MONTH * uptime[row], 2),
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
                    f"projected p95 latency {latency:+.1f}% (guard {guard.max_latency_increase_pct:g}%)",
                ],
                projected_cpu_pct=round(float(cpu_after), 2),
                projected_memory_pct=round(float(mem_after), 2),
                projected_peak_cpu_pct=round(float(peak_cpu_after), 2),
            )
        )
    return out


def classify(
    snapshot: FleetSnapshot, settings: RightsizingSettings, guard: ChangeGuard | None = None
) -> tuple[npt.NDArray[np.str_], list[InstanceTypeOffer | None]]:
    """Each instance's finding and, where one applies, its target offer."""
    codes, target = score(snapshot, settings, guard or ChangeGuard())
    flat = [o for offers in snapshot.group_offers for o in offers]
    return FINDING_NAMES[codes], [flat[t] if t >= 0 else None for t in target.tolist()]


# Findings as small codes while scoring; names only when presented.
FINDING_NAMES = np.asarray(
    [f.value for f in (Finding.OPTIMIZED, Finding.UNDER, Finding.OVER, Finding.UNKNOWN)]
)
OPTIMIZED, UNDER, OVER, UNKNOWN = range(4)


def score(
    snapshot: FleetSnapshot, settings: RightsizingSettings, guard: ChangeGuard
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.intp]]:
    """Finding codes (see FINDING_NAMES), and each target as an index into the snapshot's group offers
    laid end to end (-1: none).

    Every group's candidate offers (cheapest first) sit in one padded (groups x widest) table; each
    instance reads its group's row, and one comparison over all instances finds the cheapest that fits.
    """
    p = float(settings.percentile)
    cpu, mem = snapshot.cpu(p), snapshot.memory(p)
    table = snapshot.candidates
    # Enough capacity for the percentile plus headroom, and for what review demands: projected CPU and
    # memory under their caps, and the queueing latency within the rollout's guard (tolerance.py).
    cpu64 = np.nan_to_num(cpu.astype(np.float64))
    busiest = np.minimum(highest_cpu_within_latency_guard(cpu64, guard), guard.max_cpu_pct)
    peak = snapshot.cpu(settings.peak_percentile)
    cpu_share = np.maximum.reduce(
        [cpu / 100 * (1 + settings.headroom), cpu / busiest, peak / guard.max_peak_cpu_pct]
    )
    mem_share = np.maximum(mem / 100 * (1 + settings.headroom), mem / guard.max_memory_pct)
    need_cpu = _float32_ceiling(cpu_share * snapshot.vcpus)
    need_mem = _float32_ceiling(mem_share * snapshot.memory_gb)
    known = (snapshot.observed_hours >= settings.min_observed_hours) & ~np.isnan(cpu) & ~np.isnan(mem)
    under = known & ((cpu >= settings.under_provisioned_pct) | (mem >= settings.under_provisioned_pct))
    group = snapshot.group
    fits = (table.vcpus[group] >= need_cpu[:, None]) & (table.memory[group] >= need_mem[:, None])
    first_fit = fits.argmax(axis=1)
    rows = np.arange(len(group))
    choice = np.where(fits[rows, first_fit], first_fit, table.largest[group])
    # Too small: a bigger type, unless it already is the group's largest. Too big: a cheaper type that
    # saves enough to be worth a restart.
    grows = under & (
        (table.vcpus[group, choice] > snapshot.vcpus) | (table.memory[group, choice] > snapshot.memory_gb)
    )
    cheaper = table.price[group, choice] < snapshot.on_demand * (1 - settings.min_savings_fraction)
    shrinks = known & ~under & cheaper
    target = np.where(grows | shrinks, table.index[group, choice], -1)
    codes = np.where(known, OPTIMIZED, UNKNOWN).astype(np.int8)
    codes[grows] = UNDER
    codes[shrinks] = OVER
    return codes, target


def _float32_ceiling(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """The smallest float32 at or above each value, so float32 capacity >= it exactly when >= the value
    (comparing float32 against float64 would convert the whole candidate table)."""
    rounded = values.astype(np.float32)
    return np.where(rounded < values, np.nextafter(rounded, np.float32(np.inf)), rounded).astype(np.float32)
