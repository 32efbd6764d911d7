"""Cost forecast: linear trend plus weekly seasonality fitted to daily costs, with a backtested error."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from tools.errors import InvalidRequestError

MIN_HISTORY_DAYS = 21  # three weeks: enough to see a weekly pattern twice over and test on a third
BACKTEST_DAYS = 7


class CostForecast(BaseModel):
    history_days: int
    last_day: date
    next_30_days: float = Field(description="Forecast total USD for the 30 days after last_day")
    lower_95: float
    upper_95: float
    daily: list[float] = Field(description="Forecast USD per day")
    trend_per_day: float = Field(description="USD/day change of daily spend")
    backtest_mape_pct: float = Field(description="Mean absolute % error predicting the last 7 known days")
    method: str = "least squares: intercept + linear trend + day-of-week effects"


def _design(days: npt.NDArray[np.int64], weekdays: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Columns: 1, t, and six day-of-week indicators (Monday is the baseline)."""
    onehot = (weekdays[:, None] == np.arange(1, 7)[None, :]).astype(np.float64)
    return np.column_stack([np.ones(len(days)), days.astype(np.float64), onehot])


def _fit(
    days: npt.NDArray[np.int64], weekdays: npt.NDArray[np.int64], y: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    coef, *_ = np.linalg.lstsq(_design(days, weekdays), y, rcond=None)
    return np.asarray(coef, np.float64)


def forecast(daily_costs: list[float], last_day: date, horizon: int = 30) -> CostForecast:
    """Forecast `horizon` days after `last_day` from whole days of cost ending on `last_day`."""
    n = len(daily_costs)
    if n < MIN_HISTORY_DAYS:
        raise InvalidRequestError(f"a forecast needs at least {MIN_HISTORY_DAYS} days of costs, got {n}")
    y = np.asarray(daily_costs, np.float64)
    first = last_day - timedelta(days=n - 1)
    days = np.arange(n)
    weekdays = (first.weekday() + days) % 7
    coef = _fit(days, weekdays, y)
    residual = y - _design(days, weekdays) @ coef
    sigma = float(residual.std(ddof=min(8, n - 1)))
    ahead = np.arange(n, n + horizon)
    predicted = np.maximum(_design(ahead, (first.weekday() + ahead) % 7) @ coef, 0.0)
    train = n - BACKTEST_DAYS
    back = _fit(days[:train], weekdays[:train], y[:train])
    guess = _design(days[train:], weekdays[train:]) @ back
    mape = float(np.mean(np.abs(guess - y[train:]) / np.maximum(np.abs(y[train:]), 1e-9)) * 100)
    total = float(predicted.sum())
    # The wider of: independent daily errors (1.96 σ √h), and the relative error the model made on the
    # week it had not seen, which also catches a model that does not fit the data's shape.
    spread = max(1.96 * sigma * np.sqrt(horizon), mape / 100 * total)
    return CostForecast(
        history_days=n,
        last_day=last_day,
        next_30_days=round(total, 2),
        lower_95=round(max(total - spread, 0.0), 2),
        upper_95=round(total + spread, 2),
        daily=[round(float(v), 2) for v in predicted],
        trend_per_day=round(float(coef[1]), 4),
        backtest_mape_pct=round(mape, 2),
    )
