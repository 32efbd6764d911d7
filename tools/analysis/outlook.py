"""The bill at a glance, for a part of the fleet: this period so far against the same span of the period
before, the run rate of what is running, the forecast for the period's end (with its range), the last days
day by day, and the breakdowns and biggest machines behind them — what the console's overview shows, each
figure the bill's own (the same `costs` the API serves)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from tools.analysis.budgets import Period, billed, period_bounds, projection
from tools.models import CostGroup, InstanceFilter
from tools.provider import CloudProvider

HOURS_A_MONTH = 730
BREAKDOWNS = {"provider": "Cloud", "tag:team": "Team", "region": "Region", "application": "Application"}


class Outlook(BaseModel):
    period: Period
    period_start: datetime
    now: datetime
    period_end: datetime
    spent_usd: float = Field(description="Billed since the period began")
    previous_usd: float = Field(description="Billed over the same span of the period before")
    change_pct: float | None = Field(description="Spent against the previous span, %")
    run_rate_monthly_usd: float = Field(description="What the running machines cost a month at list price")
    running: int
    forecast_usd: float | None = Field(description="Spent + the forecast for the days left (None: too young)")
    forecast_low_usd: float | None = None
    forecast_high_usd: float | None = None
    days: list[str] = Field(description="The last whole days (ISO dates)")
    daily_usd: list[float] = Field(description="What each of those days cost")
    breakdowns: dict[str, list[CostGroup]] = Field(description="Period to date, by dimension, largest first")
    top_instances: list[CostGroup] = Field(description="The machines that cost most, period to date")


def outlook(
    provider: CloudProvider, scope: InstanceFilter | None = None, period: Period = "month", days: int = 30
) -> Outlook:
    scope = scope or InstanceFilter()
    now = provider.now()
    start, end = period_bounds(period, now)
    spent = billed(provider, scope, start, now)
    previous_start, _ = period_bounds(period, start - timedelta(seconds=1))
    previous = billed(provider, scope, previous_start, previous_start + (now - start))
    running = provider.list_instances(scope.model_copy(update={"state": "running"}))
    left = (end - now).total_seconds() / 86400
    ahead = projection(provider, scope, now, left)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    daily = provider.costs(None, days, scope, midnight, daily=True)
    since = (now - start).total_seconds() / 86400
    breakdowns = {}
    for dimension in BREAKDOWNS:
        found = provider.costs(dimension, since, scope, now) if since > 0 else None
        breakdowns[dimension] = sorted(found.groups, key=lambda g: -g.amount) if found else []
    top = provider.costs("instance", since, scope, now).groups if since > 0 else []
    return Outlook(
        period=period,
        period_start=start,
        now=now,
        period_end=end,
        spent_usd=round(spent, 2),
        previous_usd=round(previous, 2),
        change_pct=round((spent / previous - 1) * 100, 1) if previous else None,
        run_rate_monthly_usd=round(sum(i.hourly_price for i in running) * HOURS_A_MONTH, 2),
        running=len(running),
        forecast_usd=round(spent + ahead[0], 2) if ahead else None,
        forecast_low_usd=round(spent + ahead[1], 2) if ahead else None,
        forecast_high_usd=round(spent + ahead[2], 2) if ahead else None,
        days=[d.isoformat() for d in daily.days] if daily.days else [],
        daily_usd=[round(v, 2) for v in (daily.groups[0].daily or [])] if daily.groups else [],
        breakdowns=breakdowns,
        top_instances=sorted(top, key=lambda g: -g.amount)[:10],
    )
