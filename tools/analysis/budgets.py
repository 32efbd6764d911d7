"""Budgets, as AWS Budgets has them: an amount per month, quarter or year for a scope of the bill, with
thresholds on the actual spend and on the spend forecast for the period's end.

A budget's status at a moment: what the scope has cost since its period began (the bill's own figure), the
forecast for the whole period (that, plus the forecaster's daily predictions for the days left, with its
95 % range), the share of the amount each represents, the days left, and which thresholds have fired. A
forecast threshold fires before the actual one does: it is the early warning.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tools.analysis.forecast import MIN_HISTORY_DAYS, forecast
from tools.models import InstanceFilter
from tools.provider import CloudProvider

Period = Literal["month", "quarter", "year"]
Basis = Literal["actual", "forecast"]
HISTORY_DAYS = 60  # days of daily costs the forecast is fitted on


class Threshold(BaseModel):
    percent: float = Field(gt=0, le=1000, description="Of the budget's amount")
    basis: Basis = Field("actual", description="The spend so far, or the forecast for the period's end")

    @property
    def key(self) -> str:
        return f"{self.basis}:{self.percent:g}"


DEFAULT_THRESHOLDS = [
    Threshold(percent=50),
    Threshold(percent=80),
    Threshold(percent=100),
    Threshold(percent=100, basis="forecast"),
]


# The rollout kinds that save money (graphs.rollout.kinds: not `upsize`, which spends it).
SavingKind = Literal[
    "spot_migration",
    "rightsizing",
    "idle_stop",
    "off_hours",
    "volume_retype",
    "volume_cleanup",
    "snapshot_cleanup",
    "address_release",
    "bucket_tier_move",
]


class BudgetAction(BaseModel):
    """What to start when a threshold is crossed, as AWS Budgets' actions do: a rollout in the budget's
    scope, which waits for a person's approval like every other (it never approves itself)."""

    kind: SavingKind
    threshold: str = Field("actual:100", description="The threshold that starts it, as basis:percent")
    max_changes: int | None = Field(None, gt=0, le=10_000, description="At most this many changes")


class Budget(BaseModel):
    """A budget: a name, the part of the bill it covers, how much per period, and when to say so."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    amount: float = Field(ge=0.01, le=1e12, description="USD per period (a cent at least)")
    period: Period = "month"
    scope: InstanceFilter = Field(default_factory=InstanceFilter, description="Provider, region, app, tags")
    thresholds: list[Threshold] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS), max_length=20)
    action: BudgetAction | None = Field(None, description="A rollout started when a threshold is crossed")

    @field_validator("scope")
    @classmethod
    def _billable(cls, scope: InstanceFilter) -> InstanceFilter:
        if scope.state is not None or scope.pricing_model is not None:
            raise ValueError("a budget's scope is a part of the bill: provider, region, application or tags")
        return scope

    @model_validator(mode="after")
    def _action_on_a_threshold(self) -> Budget:
        keys = [t.key for t in self.thresholds]
        if self.action is not None and self.action.threshold not in keys:
            raise ValueError(
                f"the action's threshold '{self.action.threshold}' is not the budget's: {', '.join(keys)}"
            )
        return self


class FiredThreshold(BaseModel):
    key: str
    percent: float
    basis: Basis
    at_usd: float = Field(description="The spend (or forecast) that crosses it: percent × amount")


class BudgetStatus(BaseModel):
    name: str
    amount: float
    period: Period
    period_start: date
    period_end: date = Field(description="The period's last day")
    days_left: float
    spent_usd: float = Field(description="Billed since the period began, for the scope")
    spent_pct: float
    forecast_usd: float | None = Field(description="Spent + the forecast for the days left (None: too young)")
    forecast_low_usd: float | None = None
    forecast_high_usd: float | None = None
    forecast_pct: float | None = None
    fired: list[FiredThreshold]
    at_risk: bool = Field(description="Over the amount, or forecast to be")
    note: str = ""

    def summary(self, new: list[str] | None = None) -> str:
        """The standing in one paragraph, as chat and the command line say it; `new` marks the thresholds
        crossed for the first time."""
        forecast = (
            f"forecast {self.forecast_usd:,.2f} ({self.forecast_pct:g} %; 95 % range "
            f"{self.forecast_low_usd:,.2f} to {self.forecast_high_usd:,.2f})"
            if self.forecast_usd is not None
            else self.note
        )
        line = (
            f"{self.name}: {self.spent_usd:,.2f} of {self.amount:,.2f} USD spent ({self.spent_pct:g} %) in "
            f"the {self.period} from {self.period_start.isoformat()}, {self.days_left:g} days left; "
            f"{forecast}"
        )
        if self.fired:
            fresh = set(new or [])
            line += "; crossed: " + ", ".join(
                f"{f.percent:g} % {f.basis}" + (" (new)" if f.key in fresh else "") for f in self.fired
            )
        return line + (" — at risk" if self.at_risk else "")


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The calendar period (UTC) holding `now`: its first instant and the first instant after it."""
    now = now.astimezone(UTC)
    if period == "month":
        start = datetime(now.year, now.month, 1, tzinfo=UTC)
        months = 1
    elif period == "quarter":
        start = datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)
        months = 3
    else:
        start = datetime(now.year, 1, 1, tzinfo=UTC)
        months = 12
    month = start.month - 1 + months
    end = datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def status(provider: CloudProvider, budget: Budget) -> BudgetStatus:
    """The budget's standing now, from the cloud's bill and the forecaster."""
    now = provider.now()
    start, end = period_bounds(budget.period, now)
    spent = billed(provider, budget.scope, start, now)
    left = (end - now).total_seconds() / 86400
    projected = projection(provider, budget.scope, now, left)
    note = "" if projected else f"no forecast: it needs {MIN_HISTORY_DAYS} days of costs in scope"
    low = high = total = None
    if projected is not None:
        total, low, high = (round(spent + v, 2) for v in projected)
    fired = [
        FiredThreshold(
            key=t.key, percent=t.percent, basis=t.basis, at_usd=round(t.percent / 100 * budget.amount, 2)
        )
        for t in budget.thresholds
        if (spent if t.basis == "actual" else total or 0.0) >= t.percent / 100 * budget.amount
    ]
    return BudgetStatus(
        name=budget.name,
        amount=budget.amount,
        period=budget.period,
        period_start=start.date(),
        period_end=(end - timedelta(days=1)).date(),
        days_left=round(left, 2),
        spent_usd=round(spent, 2),
        spent_pct=round(spent / budget.amount * 100, 1),
        forecast_usd=total,
        forecast_low_usd=low,
        forecast_high_usd=high,
        forecast_pct=round(total / budget.amount * 100, 1) if total is not None else None,
        fired=fired,
        at_risk=spent >= budget.amount or (total is not None and total >= budget.amount),
        note=note,
    )


def billed(provider: CloudProvider, scope: InstanceFilter, start: datetime, end: datetime) -> float:
    """The bill of the scope between two moments, read in windows a cost API answers (90 days at most)."""
    total, until = 0.0, end
    while until > start:
        days = min((until - start).total_seconds() / 86400, 90.0)
        total += provider.costs(None, days, scope, until).total
        until -= timedelta(days=days)
    return total


def projection(
    provider: CloudProvider, scope: InstanceFilter, now: datetime, days_left: float
) -> tuple[float, float, float] | None:
    """What the days left will cost (expected, low, high), from the last whole days' costs."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    daily = provider.costs(None, HISTORY_DAYS, scope, midnight, daily=True)
    amounts = list(daily.groups[0].daily or []) if daily.groups else []
    while amounts and amounts[0] == 0:  # a scope younger than the window: its days before it began
        amounts.pop(0)
    if len(amounts) < MIN_HISTORY_DAYS:
        return None
    horizon = max(1, math.ceil(days_left))
    f = forecast(amounts, (midnight - timedelta(days=1)).date(), horizon)
    # Today counts only for what is left of it: the bill has the rest already.
    today_left = days_left - math.floor(days_left) if days_left < horizon else 1.0
    weights = [today_left, *([1.0] * (horizon - 1))]
    expected = sum(w * v for w, v in zip(weights, f.daily, strict=True))
    share = expected / f.next_30_days if f.next_30_days else 0.0
    spread = (f.upper_95 - f.next_30_days) * share
    return expected, max(expected - spread, 0.0), expected + spread
