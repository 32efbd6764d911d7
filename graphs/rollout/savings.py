"""What a rollout saved, read from the cloud's bill rather than from the plan's estimate.

The machines the rollout kept changed are billed over the same number of hours before its first wave (as
they were) and after its last (as they are now: a spot migration's replacements, a resize's new types),
and each machine's difference is scaled to a month of the hours it runs — all of them for an always-on
machine, about 65 % for one stopped every weekend — as the estimate is. The estimate prices a change at
list prices; this measures it at what the cloud charged, spot's hourly market price included. A resumed
run measures the same windows, so it reports the same figure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from graphs.rollout.kinds import kind_of
from graphs.rollout.models import ChangeResult, RolloutState
from tools.analysis.kinds import RESOURCE_OF, plural
from tools.analysis.settings import HOURS_PER_MONTH
from tools.errors import ProviderError
from tools.provider import CloudProvider


class MeasuredSavings(BaseModel):
    monthly_savings: float | None = Field(
        description="USD/month from the bill; None when it could not be read"
    )
    before_usd: float = 0.0
    after_usd: float = 0.0
    hours: float = Field(0.0, description="Length of each billed window")
    note: str = Field(description="How it was measured, or why it was not")


def measure(cloud: CloudProvider, state: RolloutState, kept: list[ChangeResult]) -> MeasuredSavings:
    """The kept changes' billed cost, `observe_minutes` before the first wave against as long after the
    last wave's observation began; for a kind measured over days (a schedule, or a change with one-off
    charges), whole days before the first wave against as many from an hour after the last (past the
    hour its one-offs are billed in), once they have passed."""
    waves = state.get("waves", [])
    if not kept or not waves:
        return MeasuredSavings(monthly_savings=0.0, note="nothing was kept changed")
    spec = kind_of(state["kind"])
    days = spec.measured_over_days
    window = timedelta(days=days) if days else timedelta(minutes=state["settings"].observe_minutes)
    settle = timedelta(hours=1) if days else timedelta(0)
    before_end, after_end = waves[0].started_at, waves[-1].finished_at + settle + window
    if days and after_end > cloud.now():
        return MeasuredSavings(
            monthly_savings=None,
            note=f"not measured yet: {spec.measured_because}, so its bill is read over {days:g} day(s) from "
            f"an hour after its last wave, complete at {after_end:%Y-%m-%d %H:%M} UTC "
            f"(`optiinfra workflow savings {state['workflow_id']}`)",
        )
    try:
        before = _billed(cloud, window, before_end)
        after = _billed(cloud, window, after_end)
    except ProviderError as exc:  # e.g. a bill that does not break down by machine
        return MeasuredSavings(monthly_savings=None, note=f"not measured: {exc.message}")
    hours = window / timedelta(hours=1)
    # A window of whole days holds the hours each machine ran; a short one is scaled to them.
    share = {r.instance_id: 1.0 if days else r.uptime for r in kept}
    monthly = (
        sum(
            (before.get(r.instance_id, 0.0) - after.get(r.current_id, 0.0)) * share[r.instance_id]
            for r in kept
        )
        / hours
        * HOURS_PER_MONTH
    )
    part_time = 0 if days else sum(r.uptime < 0.99 for r in kept)
    return MeasuredSavings(
        monthly_savings=round(monthly, 2),
        before_usd=round(sum(before.get(r.instance_id, 0.0) for r in kept), 4),
        after_usd=round(sum(after.get(r.current_id, 0.0) for r in kept), 4),
        hours=round(hours, 3),
        note=f"billed cost of the {len(kept)} changed {plural(RESOURCE_OF[spec.recommendation])} over "
        f"{hours:g} h before the first wave and {hours:g} h "
        + ("from an hour after the last, scaled to a month" if days else "after the last, scaled to a month")
        + (f" of the hours each runs ({part_time} of them not all the time)" if part_time else ""),
    )


def _billed(cloud: CloudProvider, window: timedelta, until: datetime) -> dict[str, float]:
    report = cloud.costs("instance", days=window / timedelta(days=1), until=until)
    return {g.key: g.amount for g in report.groups}
