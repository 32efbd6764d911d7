"""All engines together: one list whose advice does not contradict itself, highest priority first."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from tools.analysis.idle import idle
from tools.analysis.off_hours import off_hours
from tools.analysis.recommendation import KINDS, Alternative, Kind, Recommendation
from tools.analysis.reserved import reserved
from tools.analysis.rightsizing import rightsizing
from tools.analysis.settings import HOURS_PER_MONTH, AnalysisSettings, PrioritySettings
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
    if ("off_hours" in wanted or "reserved" in wanted) and snapshot.hourly_series:
        # A machine to be stopped at night is no reservation's: it will not run 95 % of the hours.
        schedules = [
            r
            for r in off_hours(snapshot.instances, snapshot.hourly_series, snapshot.now, settings.off_hours)
            if r.instance_id not in idle_ids
        ]
        changed_ids |= {r.instance_id for r in schedules}
        found += schedules if "off_hours" in wanted else []
    if "reserved" in wanted:
        lookback = settings.rightsizing.lookback_hours
        found += reserved(snapshot, settings.reserved, lookback, exclude=frozenset(changed_ids))
    return one_per_instance(snapshot, prioritise(found, settings.priority))


def one_per_instance(snapshot: FleetSnapshot, ranked: list[Recommendation]) -> list[Recommendation]:
    """Each instance's best money-saving action (the highest priority), with its other ways to save listed
    under it and counted nowhere, so that totals add each instance once. A machine to size up is a
    performance finding and stays as it is (its cost shown apart by the ledger)."""
    best: dict[str, Recommendation] = {}
    others: dict[str, list[Recommendation]] = {}
    out: list[Recommendation] = []
    for r in ranked:
        if r.monthly_savings <= 0:
            out.append(r)
        elif r.instance_id not in best:
            best[r.instance_id] = r
            out.append(r)
        else:
            others.setdefault(r.instance_id, []).append(r)
    if not others:  # asked one kind, or no instance with two ways to save: nothing to list under
        return out
    spot_of: dict[tuple[str, str, str], float] = {
        (o.provider, o.region, o.name): o.spot_hourly for offers in snapshot.offers.values() for o in offers
    }
    hourly = {i.id: i.hourly_price for i in snapshot.instances}
    uptime = dict(zip((i.id for i in snapshot.instances), snapshot.uptime.tolist(), strict=True))
    for iid, rest in others.items():
        chosen = best[iid]
        chosen.alternatives = [
            Alternative(kind=r.kind, action=r.action, target=r.target, monthly_savings=r.monthly_savings)
            for r in rest
        ]
        kinds = {chosen.kind, *(r.kind for r in rest)}
        if kinds >= {"rightsize", "spot"}:
            resize = chosen if chosen.kind == "rightsize" else next(r for r in rest if r.kind == "rightsize")
            spot_price = spot_of.get((chosen.provider, chosen.region, resize.target))
            now_price = hourly.get(iid)
            if spot_price is not None and now_price is not None:
                chosen.alternatives.append(
                    Alternative(
                        kind="spot",
                        action="resize, then migrate-to-spot",
                        target=f"{resize.target} on spot",
                        monthly_savings=round((now_price - spot_price) * HOURS_PER_MONTH * uptime[iid], 2),
                        note="two rollouts: rightsizing first, then a spot migration of the resized machine",
                    )
                )
    return out


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
