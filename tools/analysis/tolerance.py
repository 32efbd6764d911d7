"""What a change may do to a service: the models and thresholds the recommender and the reviewers share.

A recommendation is worth making only if the reviewers would let it through, so both read this module: the
recommender picks targets these checks pass, and the reviewing agents apply the same checks to a plan (the
cloud may have moved since, and a person may have edited the plan). One model of latency, one of a spot
replica's loss, one table of thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

F64 = npt.NDArray[np.float64]
# Past this share of a CPU, queueing delay explodes; the approximation is capped there.
SATURATION = 0.98
# Other services depend on these tiers: losing one hurts every caller, so they do not go to spot.
DEPENDENCY_TIERS = frozenset({"database", "cache"})
# Work that loses its progress when the machine is reclaimed.
SPOT_INTOLERANT_TIERS = frozenset({"training"})


class ChangeGuard(BaseModel):
    """The thresholds a change must pass, in the recommender and in review alike."""

    model_config = ConfigDict(frozen=True)

    max_latency_increase_pct: float = Field(
        5.0, description="The rollout's quality guard: a change projected past it would be rolled back"
    )
    max_cpu_pct: float = 80.0  # projected P95 CPU after a resize
    max_peak_cpu_pct: float = 90.0  # projected P99.5 CPU after a resize: the busiest hours must not saturate
    max_memory_pct: float = 85.0  # projected P95 memory after a resize
    max_peer_cpu_pct: float = 85.0  # P95 CPU of the peers while a spot replica is reclaimed
    spot_bands: tuple[str, ...] = ("<5%", "5-10%", "10-15%", "15-20%")
    production_spot_bands: tuple[str, ...] = ("<5%", "5-10%", "10-15%")
    production_spot_min_replicas: int = 3
    spot_min_replicas: int = 2


def queueing_factors(cpu_pct: F64) -> F64:
    """Latency relative to an idle machine: queueing delay grows as ρ²/(1-ρ) with utilisation ρ."""
    rho = np.clip(cpu_pct / 100, 0.0, SATURATION)
    factors: F64 = 1 + 0.5 * rho**2 / (1 - rho)
    return factors


def queueing_factor(cpu_pct: float) -> float:
    return float(queueing_factors(np.asarray(cpu_pct, np.float64)))


def projected_latency_increase_pct(cpu_pct: float, projected_cpu_pct: float) -> float:
    """How much the p95 latency of a machine's share of traffic rises when its utilisation changes."""
    return (queueing_factor(projected_cpu_pct) / queueing_factor(cpu_pct) - 1) * 100


def highest_cpu_within_latency_guard(cpu_pct: F64, guard: ChangeGuard) -> F64:
    """The highest utilisation (percent) machines now at `cpu_pct` may reach with their latency rising at
    most by the guard: the inverse of the queueing factor, 0.5ρ²/(1-ρ) = K ⇒ ρ = √(K² + 2K) − K."""
    k = queueing_factors(cpu_pct) * (1 + guard.max_latency_increase_pct / 100) - 1
    highest: F64 = np.minimum(np.sqrt(k * k + 2 * k) - k, SATURATION) * 100
    return highest


def resize_veto(
    cpu_pct: float,
    projected_cpu_pct: float,
    projected_memory_pct: float,
    projected_peak_cpu_pct: float,
    guard: ChangeGuard,
) -> str | None:
    """Why a resize must not go ahead, or None: projected P95 CPU and memory, the busiest hours' CPU, and
    the latency that follows."""
    latency = projected_latency_increase_pct(cpu_pct, projected_cpu_pct)
    if projected_cpu_pct > guard.max_cpu_pct:
        return f"projected P95 CPU {projected_cpu_pct:.0f}% > {guard.max_cpu_pct:.0f}%"
    if projected_peak_cpu_pct > guard.max_peak_cpu_pct:
        return (
            f"its busiest hours would run at {projected_peak_cpu_pct:.0f}% CPU (P99.5) > "
            f"{guard.max_peak_cpu_pct:.0f}%: bursts would saturate it"
        )
    if projected_memory_pct > guard.max_memory_pct:
        return f"projected P95 memory {projected_memory_pct:.0f}% > {guard.max_memory_pct:.0f}%"
    if latency > guard.max_latency_increase_pct:
        return (
            f"projected p95 latency +{latency:.1f}% exceeds the rollout's "
            f"{guard.max_latency_increase_pct:g}% quality guard"
        )
    return None


def peer_cpu_when_reclaimed(cpu_p95_pct: float, replicas: int) -> float:
    """The P95 CPU of the other replicas while one is reclaimed and its replacement boots (they share its
    load); infinite for a single replica, which has no one to share with."""
    return cpu_p95_pct * replicas / (replicas - 1) if replicas > 1 else math.inf


def spot_service_veto(tags: Mapping[str, str], guard: ChangeGuard) -> str | None:
    """The application's concern: can the service ride out losing this machine (its data, its dependants,
    its work in progress, its replicas)?"""
    production = tags.get("environment") == "production"
    replicas = int(tags.get("replicas", "1"))
    tier = tags.get("tier", "")
    needed = guard.production_spot_min_replicas if production else guard.spot_min_replicas
    if tags.get("stateful") == "true":
        return "stateful: its data lives on the machine"
    if tier in DEPENDENCY_TIERS:
        return f"a {tier}: other services depend on it"
    if tier in SPOT_INTOLERANT_TIERS:
        return f"{tier} work loses its progress when reclaimed"
    if replicas < needed:
        return f"{replicas} replica(s): needs {needed} to ride out an interruption"
    return None


def spot_peer_veto(cpu_p95_pct: float, replicas: int, guard: ChangeGuard) -> str | None:
    """The performance concern: can the peers carry a reclaimed replica's load until its replacement boots?"""
    peer_cpu = peer_cpu_when_reclaimed(0.0 if math.isnan(cpu_p95_pct) else cpu_p95_pct, replicas)
    if peer_cpu > guard.max_peer_cpu_pct:
        peers = replicas - 1
        return f"{peers} peer(s) would run at P95 CPU {peer_cpu:.0f}% while a reclaimed replica reboots"
    return None


def spot_band_veto(interruption_band: str, production: bool, guard: ChangeGuard) -> str | None:
    """The resource concern: is this type's spot capacity reclaimed rarely enough (stricter in production)?"""
    allowed = guard.production_spot_bands if production else guard.spot_bands
    if interruption_band not in allowed:
        where = "production" if production else "any environment"
        return f"interrupted {interruption_band} a month: too often for {where}"
    return None


def spot_veto(
    tags: Mapping[str, str], cpu_p95_pct: float, interruption_band: str, guard: ChangeGuard
) -> str | None:
    """Why a machine must not move to spot (the first concern any reviewer would raise), or None."""
    return (
        spot_service_veto(tags, guard)
        or spot_peer_veto(cpu_p95_pct, int(tags.get("replicas", "1")), guard)
        or spot_band_veto(interruption_band, tags.get("environment") == "production", guard)
    )
