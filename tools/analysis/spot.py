"""Spot eligibility: interruptible, replicated, stateless work on types that are not reclaimed too often."""

from __future__ import annotations

from pydantic import BaseModel

from tools.analysis.recommendation import Recommendation, RiskLevel, clamp, recommend_for
from tools.analysis.settings import HOURS_PER_MONTH, SpotSettings
from tools.analysis.snapshot import FleetSnapshot
from tools.analysis.tolerance import ChangeGuard, spot_band_veto, spot_peer_veto, spot_service_veto

_LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high")


class SpotAssessment(BaseModel):
    instance_id: str
    eligible: bool
    risk: RiskLevel
    interruption_band: str
    expected_monthly_interruptions: float
    monthly_savings: float
    reasons: list[str]


def assess_spot(
    snapshot: FleetSnapshot,
    settings: SpotSettings | None = None,
    eligible_only: bool = False,
    guard: ChangeGuard | None = None,
) -> list[SpotAssessment]:
    """Every on-demand instance's spot verdict, with the reasons either way (or only the eligible ones).
    Eligible means every reviewer would let it through: the checks are theirs (tolerance.py)."""
    settings = settings or SpotSettings()
    guard = guard or ChangeGuard()
    cpu = snapshot.cpu(95.0).tolist()
    on_demand, spot_price = snapshot.on_demand.tolist(), snapshot.spot.tolist()
    uptime = snapshot.uptime.tolist()
    out = []
    for row, inst in enumerate(snapshot.instances):
        if inst.pricing_model != "on-demand":
            continue
        offer = snapshot.offer[row]
        band = offer.interruption_band
        level = _LEVELS.index(settings.band_risk[band])
        replicas = int(inst.tags.get("replicas", "1"))
        production = inst.tags.get("environment") == "production"
        if production:
            level = min(level + 1, 2)  # an interruption in production costs more
        concerns = (
            spot_service_veto(inst.tags, guard),
            spot_peer_veto(cpu[row], replicas, guard),
            spot_band_veto(band, production, guard),
        )
        blockers = [c for c in concerns if c]
        if blockers and eligible_only:
            continue
        savings = (on_demand[row] - spot_price[row]) * HOURS_PER_MONTH * uptime[row]
        reasons = blockers or [
            f"stateless, {replicas} replicas, P95 CPU {cpu[row]:.0f}%",
            f"{offer.name} is interrupted {band} of the time per month",
            f"spot {spot_price[row]:.4f} USD/h against on-demand {on_demand[row]:.4f}",
        ]
        out.append(
            SpotAssessment(
                instance_id=inst.id,
                eligible=not blockers,
                risk=_LEVELS[level],
                interruption_band=band,
                expected_monthly_interruptions=settings.band_monthly_rate[band],
                monthly_savings=round(savings, 2),
                reasons=reasons,
            )
        )
    return out


def spot(
    snapshot: FleetSnapshot, settings: SpotSettings | None = None, guard: ChangeGuard | None = None
) -> list[Recommendation]:
    settings = settings or SpotSettings()
    observed = snapshot.observed_hours.tolist()
    by_id = {inst.id: row for row, inst in enumerate(snapshot.instances)}
    out = []
    for verdict in assess_spot(snapshot, settings, eligible_only=True, guard=guard):
        row = by_id[verdict.instance_id]
        inst = snapshot.instances[row]
        out.append(
            recommend_for(
                inst,
                kind="spot",
                finding="spot-eligible",
                action="migrate-to-spot",
                current="on-demand",
                target="spot",
                monthly_savings=verdict.monthly_savings,
                risk=verdict.risk,
                risk_score=round((_LEVELS.index(verdict.risk) + 0.5) / 3, 3),
                confidence=round(clamp(observed[row] / (14 * 24), 0, 1), 3),
                reasons=[
                    *verdict.reasons,
                    f"expect {verdict.expected_monthly_interruptions:.3f} interruptions/month",
                ],
            )
        )
    return out
