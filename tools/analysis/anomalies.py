"""Cost anomalies: days on which a cost series ran well above what its own recent weeks lead one to expect.

The method, as AWS Cost Anomaly Detection describes its monitors (one series per service, team,
application, region or cloud; increases only; an impact in dollars and a root cause):
- **expected**: the median of the same weekday over the previous `weeks` weeks — weekday-aware, so a
  weekend without the development machines is not a drop and the Monday after it not a spike;
- **score**: the day's excess over expected, in robust units — 1.4826 × the median absolute deviation of
  the series' own excesses over the previous four weeks, never below `min_scale_fraction` of expected (a
  bill smooth to the cent would otherwise call a rounding error an anomaly);
- **anomalous**: score ≥ `threshold`, excess ≥ `min_relative` of expected and ≥ `min_impact_usd`;
  consecutive anomalous days of one series are one anomaly, its impact their summed excess.
Pure computations over a (series × days) matrix, vectorised across series.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from tools.analysis.cost_series import DailyCosts

F64 = npt.NDArray[np.float64]
Severity = Literal["low", "medium", "high"]
_MAD_TO_SIGMA = 1.4826  # a normal distribution's σ per median absolute deviation


@dataclass(frozen=True)
class AnomalySettings:
    weeks: int = 4  # same-weekday history behind each day's expectation
    scale_days: int = 28  # the window whose excesses set a series' usual spread
    min_history_days: int = 14  # a series younger than two weeks has no normal to stray from
    threshold: float = 4.0  # robust z-score
    min_relative: float = 0.10  # of the day's expected cost
    min_impact_usd: float = 1.0  # per day: below it, no one would act
    min_scale_fraction: float = 0.02  # of expected: the smallest spread a series is credited with

    def __post_init__(self) -> None:
        if self.weeks < 1 or self.scale_days < 7 or self.threshold <= 0:
            raise ValueError("weeks ≥ 1, scale_days ≥ 7 and threshold > 0 are needed")


class Anomaly(BaseModel):
    """Consecutive days of one series above what its recent weeks predicted."""

    dimension: str = Field(description="service, tag:team, application, region or provider")
    value: str
    start: date
    end: date = Field(description="Last anomalous day (inclusive)")
    expected_usd: float = Field(description="What the days were expected to cost, summed")
    actual_usd: float
    impact_usd: float = Field(description="actual - expected")
    impact_pct: float = Field(description="impact as a share of expected, %")
    score: float = Field(description="The highest day's robust z-score")
    severity: Severity

    @property
    def key(self) -> str:
        """Stable across evaluations: the same series and first day are the same anomaly."""
        return f"{self.dimension}={self.value}@{self.start.isoformat()}"


@dataclass(frozen=True)
class Scores:
    """Per series and day: what was expected, the robust score, and whether the day is anomalous."""

    expected: F64
    score: F64
    anomalous: npt.NDArray[np.bool_]


def _nanmedian(values: F64, axis: int) -> F64:
    with warnings.catch_warnings():  # all-NaN slices (no history yet) are NaN, without numpy's warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(values, axis=axis), np.float64)


def _shifted(amounts: F64, by: int) -> F64:
    """`amounts` moved `by` days later along the day axis, NaN where nothing comes from."""
    out = np.full_like(amounts, np.nan)
    out[:, by:] = amounts[:, :-by]
    return out


def score(costs: DailyCosts, settings: AnomalySettings | None = None) -> Scores:
    """Every day of every series scored against its own weekday history (vectorised over series)."""
    s = settings or AnomalySettings()
    amounts = costs.amounts.astype(np.float64)
    n_series, n_days = amounts.shape
    if n_days == 0:
        empty = np.zeros((n_series, 0))
        return Scores(empty, empty, empty.astype(bool))
    same_weekday = np.stack([_shifted(amounts, 7 * k) for k in range(1, s.weeks + 1) if 7 * k < n_days] or
                            [np.full_like(amounts, np.nan)], axis=2)  # fmt: skip
    expected = _nanmedian(same_weekday, axis=2)
    excess = amounts - expected
    # The spread of the excesses over the `scale_days` before each day (that day left out).
    before = _windows(excess, s.scale_days)
    mad = _nanmedian(np.abs(before - _nanmedian(before, axis=2)[:, :, None]), axis=2)
    scale = np.fmax(_MAD_TO_SIGMA * mad, s.min_scale_fraction * np.abs(expected))
    scale = np.fmax(scale, 0.01)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = excess / scale
    # A series' first days, before it has `min_history_days` of costs, have no normal to be judged by.
    history = np.cumsum(np.isfinite(amounts) & (amounts > 0), axis=1)
    anomalous = (
        (history > s.min_history_days)
        & np.isfinite(z)
        & (z >= s.threshold)
        & (excess >= s.min_relative * expected)
        & (excess >= s.min_impact_usd)
    )
    return Scores(expected, np.nan_to_num(z, nan=0.0), anomalous)


def _windows(values: F64, width: int) -> F64:
    """For each day, the `width` days before it (NaN-padded at the start): shape (series, days, width)."""
    padded = np.concatenate([np.full((values.shape[0], width), np.nan), values], axis=1)
    view = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)
    return view[:, : values.shape[1], :]


def detect(
    costs: DailyCosts, settings: AnomalySettings | None = None, since: date | None = None
) -> list[Anomaly]:
    """The anomalies of every series, largest impact first; with `since`, those still running on or after
    it (an anomaly that began earlier and goes on is reported whole)."""
    scores = score(costs, settings)
    out = []
    for row, col in _runs(scores.anomalous):
        first, last = col
        if since is not None and costs.days[last] < since:
            continue
        expected = float(scores.expected[row, first : last + 1].sum())
        actual = float(costs.amounts[row, first : last + 1].sum())
        impact = actual - expected
        ratio = impact / expected if expected > 0 else float("inf")
        dimension, value = costs.keys[row]
        out.append(
            Anomaly(
                dimension=dimension,
                value=value,
                start=costs.days[first],
                end=costs.days[last],
                expected_usd=round(expected, 2),
                actual_usd=round(actual, 2),
                impact_usd=round(impact, 2),
                impact_pct=round(ratio * 100, 1) if np.isfinite(ratio) else 0.0,
                score=round(float(scores.score[row, first : last + 1].max()), 2),
                severity=severity(ratio),
            )
        )
    return sorted(out, key=lambda a: (-a.impact_usd, a.dimension, a.value, a.start))


def severity(excess_ratio: float) -> Severity:
    """High at double the expected cost or more, medium past +50 %, low below."""
    return "high" if excess_ratio >= 1.0 else "medium" if excess_ratio >= 0.5 else "low"


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, tuple[int, int]]]:
    """(row, (first, last)) of each run of consecutive True days."""
    out = []
    padded = np.pad(mask.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    for row, col in zip(*np.nonzero(edges == 1), strict=True):
        ends = np.flatnonzero(edges[row, col:] == -1)
        out.append((int(row), (int(col), int(col + ends[0] - 1))))
    return out
