"""All engines together: one list whose advice does not contradict itself, highest priority first."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from tools.analysis.idle import idle
from tools.analysis.recommendation import KINDS, Kind, Recommendation
from tools.analysis.reserved import reserved
from tools.analysis.rightsizing import rightsizing
from tools.analysis.settings import AnalysisSettings, PrioritySettings
from tools.analysis.snapshot import FleetSnapshot
from tools.analysis.spot import spot


def prioritise(recommendations: Iterable[Recommendation], settings: PrioritySettings) -> list[Recommendation]:
    """Score each (see PrioritySettings), in place, and sort, best first."""
    scored = list(recommendations)
    for r in scored:
        value = max(r.monthly_savings, 0.0) * r.confidence / (1 + settings.risk_weight * r.risk_score)
        r.priority = round(value / settings.effort[r.kind], 3)
    return sorted(scored, key=lambda r: (-r.priority, -r.monthly_savings, r.instance_id))


def recommend(
    snapshot: FleetSnapshot, kinds: Iterable[Kind] = KINDS, settings: AnalysisSettings | None = None
) -> list[Recommendation]:
    """Recommendations of the asked kinds.

    An idle instance gets only its idle advice; a reservation is only advised for an instance that is not
    also to be rightsized or moved to spot (commit to the right shape and pricing model, not the current).
    """
    settings = settings or AnalysisSettings()
    with _collector_paused():
        return _recommend(snapshot, set(kinds), settings)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Recommendations are hundreds of thousands of small acyclic objects at fleet scale; the cyclic
    collector would rescan them again and again (45 % of the time at 100k), so it waits until they exist."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _recommend(
    snapshot: FleetSnapshot, wanted: set[Kind], settings: AnalysisSettings
) -> list[Recommendation]:
    found: list[Recommendation] = []
    idle_recs = idle(snapshot, settings.idle)  # always: no other advice applies to a machine nobody uses
    idle_ids = {r.instance_id for r in idle_recs}
    found += idle_recs if "idle" in wanted else []
    changed_ids = set(idle_ids)
    if "rightsize" in wanted or "reserved" in wanted:
        resizes = [
            r
            for r in rightsizing(snapshot, settings.rightsizing, settings.guard)
            if r.instance_id not in idle_ids
        ]
        changed_ids |= {r.instance_id for r in resizes}
        found += resizes if "rightsize" in wanted else []
    if "spot" in wanted or "reserved" in wanted:
        moves = [r for r in spot(snapshot, settings.spot, settings.guard) if r.instance_id not in idle_ids]
        changed_ids |= {r.instance_id for r in moves}
        found += moves if "spot" in wanted else []
    if "reserved" in wanted:
        lookback = settings.rightsizing.lookback_hours
        found += reserved(snapshot, settings.reserved, lookback, exclude=frozenset(changed_ids))
    return prioritise(found, settings.priority)


class SavingsSummary(BaseModel):
    recommendations: int
    monthly_savings: float
    by_kind: dict[str, float]
    count_by_kind: dict[str, int]


def savings_summary(recommendations: list[Recommendation]) -> SavingsSummary:
    by_kind: dict[str, float] = {}
    count: dict[str, int] = {}
    for r in recommendations:
        by_kind[r.kind] = round(by_kind.get(r.kind, 0.0) + r.monthly_savings, 2)
        count[r.kind] = count.get(r.kind, 0) + 1
    return SavingsSummary(
        recommendations=len(recommendations),
        monthly_savings=round(sum(r.monthly_savings for r in recommendations), 2),
        by_kind=by_kind,
        count_by_kind=count,
    )
