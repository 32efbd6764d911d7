"""Chart.js specifications from the figures (drawn by console.js from the page's `data-chart`)."""

from __future__ import annotations

from typing import Any

from tools.models import CostGroup

TOP = 8


def trend(days: list[str], amounts: list[float], label: str = "USD a day") -> dict[str, Any]:
    return {
        "type": "line",
        "data": {"labels": days, "datasets": [{"label": label, "data": amounts, "tension": 0.2,
                                               "pointRadius": 2, "fill": False}]},
        "options": {"scales": {"y": {"beginAtZero": True}}},
    }  # fmt: skip


def shares(groups: list[CostGroup], label: str) -> dict[str, Any]:
    """The largest groups and the rest as one: a doughnut for a few, bars for many."""
    shown, rest = groups[:TOP], groups[TOP:]
    labels = [g.key for g in shown] + (["others"] if rest else [])
    values = [round(g.amount, 2) for g in shown] + ([round(sum(g.amount for g in rest), 2)] if rest else [])
    if len(groups) <= 4:
        return {
            "type": "doughnut",
            "data": {"labels": labels, "datasets": [{"label": label, "data": values}]},
        }
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": [{"label": label, "data": values}]},
        "options": {"indexAxis": "y", "scales": {"x": {"beginAtZero": True}}},
    }


def series(timestamps: list[str], named: dict[str, list[float]], unit: str) -> dict[str, Any]:
    """Several lines over time (an instance's CPU, memory, network)."""
    return {
        "type": "line",
        "data": {"labels": timestamps, "datasets": [{"label": name, "data": values, "pointRadius": 0,
                                                     "borderWidth": 1.5} for name, values in named.items()]},
        "options": {"scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": unit}},
                               "x": {"ticks": {"maxTicksLimit": 8}}}},
    }  # fmt: skip
