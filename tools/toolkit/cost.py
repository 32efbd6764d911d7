"""The cost agent's tools: spend, forecasts, prices and savings."""

from __future__ import annotations

from datetime import UTC, datetime

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.engine import recommend, savings_summary
from tools.analysis.forecast import CostForecast, forecast
from tools.analysis.recommendation import KINDS, Kind
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import collect
from tools.errors import InvalidRequestError
from tools.models import CloudName, CostBreakdown, InstanceFilter, InstanceTypeOffer
from tools.provider import CloudProvider
from tools.toolkit.base import provider_tool
from tools.toolkit.results import SavingsReport


class CostsArgs(BaseModel):
    """Accrued cloud spend over a recent window, optionally broken down."""

    group_by: str | None = Field(
        None,
        description="Break the total down by: provider, region, service, day, instance_type, pricing_model, "
        "application, or tag:<key> (e.g. tag:team). Omit for the total only.",
    )
    days: float = Field(30, gt=0, le=90, description="How many days back from now, up to 90")
    month_to_date: bool = Field(False, description="True: the calendar month so far instead of `days`")


class ForecastArgs(BaseModel):
    """Forecast the next 30 days of spend from recent daily costs (trend + weekly pattern)."""

    history_days: int = Field(60, ge=21, le=89, description="Days of history to fit, 21 to 89")


class SavingsArgs(BaseModel):
    """Savings opportunities across the fleet: rightsizing, idle machines, spot and reservations."""

    kinds: list[Kind] = Field(
        default_factory=lambda: list(KINDS),
        description="Which kinds of savings to look for",
    )
    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
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
    def costs(group_by: str | None = None, days: float = 30, month_to_date: bool = False) -> CostBreakdown:
        if month_to_date:
            now = cloud.now()
            days = (
                now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            ).total_seconds() / 86400
            if days == 0:  # the first instant of the month: nothing accrued yet
                return CostBreakdown(start=now, end=now, group_by=group_by, total=0.0, groups=[])
        return cloud.costs(group_by, days)

    def forecast_costs(history_days: int = 60) -> CostForecast:
        # One day more than asked: unless it is midnight, the window's first and last days are partial.
        amounts, last_day = whole_days(cloud.costs("day", history_days + 1))
        return forecast(amounts[-history_days:], last_day.date())

    def savings(kinds: list[Kind], provider: CloudName | None = None, limit: int = 10) -> SavingsReport:
        found = recommend(collect(cloud, InstanceFilter(provider=provider), settings), kinds, settings)
        return SavingsReport(summary=savings_summary(found), recommendations=found[:limit])

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
        provider_tool(costs, "get_costs", CostsArgs),
        provider_tool(forecast_costs, "forecast_costs", ForecastArgs),
        provider_tool(savings, "find_savings", SavingsArgs),
        provider_tool(prices, "compare_prices", PricesArgs),
    ]
