"""Daily cost series per dimension value, read from a cloud's bill in one call per dimension (Cost Explorer's
DAILY granularity with a GroupBy), for the anomaly detector and budget forecasts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from tools.models import InstanceFilter
from tools.provider import CloudProvider

# The series an anomaly monitor watches, as AWS Cost Anomaly Detection's monitors do: per service, per team
# (a cost-allocation tag), per application, per region, per cloud.
DIMENSIONS = ("service", "tag:team", "application", "region", "provider")


@dataclass(frozen=True)
class DailyCosts:
    """Daily cost series aligned on `days`: row k is the series `keys[k]` = (dimension, value)."""

    days: list[date]
    keys: list[tuple[str, str]]
    amounts: npt.NDArray[np.float64]  # (series, days), USD

    def __post_init__(self) -> None:
        if self.amounts.shape != (len(self.keys), len(self.days)):
            raise ValueError(f"amounts must be {len(self.keys)} × {len(self.days)}, got {self.amounts.shape}")

    def row(self, dimension: str, value: str) -> int:
        return self.keys.index((dimension, value))


def last_whole_day(now: datetime) -> date:
    """Yesterday, in UTC: today's bill is still running up."""
    return now.astimezone(UTC).date() - timedelta(days=1)


def midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def collect_daily(
    provider: CloudProvider,
    days: int = 90,
    dimensions: Sequence[str] = DIMENSIONS,
    last_day: date | None = None,
    scope: InstanceFilter | None = None,
) -> DailyCosts:
    """The whole days ending on `last_day` (default: yesterday) of every value of every dimension."""
    end = midnight_after(last_day or last_whole_day(provider.now()))
    keys: list[tuple[str, str]] = []
    rows: list[list[float]] = []
    calendar: list[date] = []
    for dimension in dimensions:
        report = provider.costs(dimension, days=days, filters=scope, until=end, daily=True)
        calendar = list(report.days or [])
        for group in report.groups:
            keys.append((dimension, group.key))
            rows.append(list(group.daily or []))
    amounts = np.asarray(rows, np.float64).reshape(len(keys), len(calendar))
    return DailyCosts(calendar, keys, amounts)
