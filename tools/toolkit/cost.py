"""The cost agent's tools: spend, forecasts, cost anomalies, prices and savings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.forecast import CostForecast, forecast
from tools.analysis.ledger import read_ledger
from tools.analysis.recommendation import KINDS, Kind
from tools.analysis.root_cause import FoundAnomaly, find_anomalies
from tools.analysis.settings import AnalysisSettings
from tools.errors import InvalidRequestError
from tools.models import CloudName, CostBreakdown, InstanceTypeOffer
from tools.provider import CloudProvider
from tools.toolkit.base import ScopeArgs, provider_tool
from tools.toolkit.results import SavingsReport


class CostsArgs(ScopeArgs):
    """Accrued cloud spend of the instances in scope over a recent window, optionally broken down."""

    group_by: str | None = Field(
        None,
        description="Break the total down by: provider, region, service, day, instance_type, pricing_model, "
        "application, or tag:<key> (e.g. tag:team). Omit for the total only.",
    )
    days: float = Field(30, gt=0, le=90, description="How many days back from `until`, up to 90")
    until: datetime | None = Field(None, description="End of the window (ISO 8601); default: now")
    month_to_date: bool = Field(False, description="True: the calendar month so far instead of `days`")


class ClockArgs(BaseModel):
    """The cloud's current time (UTC): what "today", "this week" or "last month" are measured from."""


class CloudTime(BaseModel):
    now: datetime


class ForecastArgs(ScopeArgs):
    """Forecast the next 30 days of spend in scope from recent daily costs (trend + weekly pattern)."""

    history_days: int = Field(60, ge=21, le=89, description="Days of history to fit, 21 to 89")


class AnomaliesArgs(BaseModel):
    """Cost anomalies: days a service, team, application, region or cloud cost well above its own normal
    (the same weekdays of the weeks before), with what drove each; spikes, and new spend apart."""

    days: int = Field(7, ge=1, le=60, description="Anomalies running in the last N whole days")


class AnomalyReport(BaseModel):
    days: int
    anomalies: list[FoundAnomaly] = Field(description="Spikes first, then new spend; largest impact first")


class SavingsArgs(ScopeArgs):
    """Savings opportunities in scope (the ledger): rightsizing, idle machines, spot and reservations;
    unattached volumes, cheaper volume types, old snapshots and idle public addresses."""

    kinds: list[Kind] = Field(
        default_factory=lambda: list(KINDS),
        description="Which kinds of savings to look for",
    )
    instance_ids: list[str] = Field(
        default_factory=list,
        description="Only these instances (or volumes, snapshots, addresses); empty = all",
    )
    limit: int = Field(10, ge=1, le=200, description="How many recommendations to return, best first")


class PricesArgs(BaseModel):
    """Hourly prices (on-demand, spot, 1-year reserved) of instance types in a region."""

    provider: CloudName = Field(description="aws, gcp or azure")
    region: str | None = Field(None, description="e.g. us-east-1, us-central1, eastus; default the main one")
    instance_types: list[str] = Field(
        default_factory=list, description="Type names to compare, e.g. ['m5.large', 'm6i.large']; empty = all"
    )


def whole_days(costs: CostBreakdown) -> tuple[list[float], datetime]:
    """Daily amounts, oldest first, without the partial days at the window's edges; and the last day."""
    by_day = {g.key: g.amount for g in costs.groups}
    days = sorted(by_day)
    if costs.start.time() != datetime.min.time():
        days = days[1:]
    if costs.end.time() != datetime.min.time():
        days = days[:-1]
    return [by_day[d] for d in days], datetime.fromisoformat(days[-1]).replace(tzinfo=UTC)


def cost_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    def costs(**args: Any) -> CostBreakdown:
        a = CostsArgs(**args)
        days = a.days
        if a.month_to_date:
            now = cloud.now()
            days = (
                now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            ).total_seconds() / 86400
            if days == 0:  # the first instant of the month: nothing accrued yet
                return CostBreakdown(start=now, end=now, group_by=a.group_by, total=0.0, groups=[])
        return cloud.costs(a.group_by, days, a.instance_filter(), None if a.month_to_date else a.until)

    def current_time() -> CloudTime:
        return CloudTime(now=cloud.now())

    def forecast_costs(**args: Any) -> CostForecast:
        a = ForecastArgs(**args)
        # One day more than asked: unless it is midnight, the window's first and last days are partial.
        amounts, last_day = whole_days(cloud.costs("day", a.history_days + 1, a.instance_filter()))
        return forecast(amounts[-a.history_days :], last_day.date())

    def savings(**args: Any) -> SavingsReport:
        a = SavingsArgs(**args)
        return SavingsReport.of(
            read_ledger(cloud, a.instance_filter(), a.kinds, settings, a.instance_ids), a.limit
        )

    def anomalies(days: int = 7) -> AnomalyReport:
        return AnomalyReport(days=days, anomalies=find_anomalies(cloud, since_days=days))

    def prices(
        provider: CloudName, region: str | None = None, instance_types: list[str] | None = None
    ) -> list[InstanceTypeOffer]:
        offers = cloud.instance_types(provider, region)
        wanted = set(instance_types or [])
        unknown = wanted - {o.name for o in offers}
        if unknown:
            raise InvalidRequestError(f"not offered there: {', '.join(sorted(unknown))}", provider=cloud.name)
        return [o for o in offers if not wanted or o.name in wanted]

    return [
        provider_tool(current_time, "current_time", ClockArgs),
        provider_tool(costs, "get_costs", CostsArgs),
        provider_tool(forecast_costs, "forecast_costs", ForecastArgs),
        provider_tool(anomalies, "find_cost_anomalies", AnomaliesArgs),
        provider_tool(savings, "find_savings", SavingsArgs),
        provider_tool(prices, "compare_prices", PricesArgs),
    ]
