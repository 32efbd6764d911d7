"""What an answer is about: the scope a request names (cloud, region, environment, team, application, tags,
instances) and its time window, as tool arguments and as the words a reply opens with.

A reply always says the scope it answered for ("GCP, last 7 days: 6,658.62 USD"), so a reader can check it
against their cloud's console; a scope the answer cannot apply is said too, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.routing.models import Period, RouteParams

MAX_DAYS = 90  # how far back the cloud's cost data reaches
_CLOUDS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
_ROLLING_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class Window:
    """[start, end) in the cloud's time, and how a reply names it."""

    start: datetime
    end: datetime
    label: str

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def window(period: Period | None, now: datetime, default_days: int = 30) -> Window:
    """The window `period` means at `now` (the cloud's clock); without one, the last `default_days` days.
    Windows reaching further back than the cost data are cut to it, and the label says so."""
    if period is None:
        return Window(now - timedelta(days=default_days), now, f"last {default_days} days")
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period.month is not None:
        year = now.year if period.month <= now.month else now.year - 1
        start = midnight.replace(year=year, month=period.month, day=1)
        end = min(_next_month(start), now)
        label = f"{start:%B %Y}" + (" so far" if end == now else "")
        return _within_reach(start, end, label, now)
    if period.calendar is not None:
        start = {"day": midnight, "week": midnight - timedelta(days=now.weekday()),
                 "month": midnight.replace(day=1)}[period.unit]  # fmt: skip
        if period.calendar == "this":
            names = {"day": "today", "week": "this week", "month": "this month"}
            return Window(start, now, f"{names[period.unit]} so far (since {start:%b %-d})")
        end = start
        start = {"day": end - timedelta(days=1), "week": end - timedelta(days=7),
                 "month": (end - timedelta(days=1)).replace(day=1)}[period.unit]  # fmt: skip
        names = {"day": "yesterday", "week": "last week", "month": "last month"}
        last = end - timedelta(days=1)
        shown = f"{start:%b %-d}" if period.unit == "day" else f"{start:%b %-d} – {last:%b %-d}"
        return _within_reach(start, end, f"{names[period.unit]} ({shown})", now)
    days = period.count * _ROLLING_DAYS[period.unit]
    unit = f"{period.unit}s" if period.count > 1 else period.unit
    label = f"last {days} days" if period.unit == "day" else f"last {period.count} {unit} ({days} days)"
    return _within_reach(now - timedelta(days=days), now, label, now)


def _next_month(first: datetime) -> datetime:
    return (first + timedelta(days=32)).replace(day=1)


def _within_reach(start: datetime, end: datetime, label: str, now: datetime) -> Window:
    earliest = now - timedelta(days=MAX_DAYS)
    if start >= earliest:
        return Window(start, end, label)
    return Window(
        earliest, max(end, earliest), f"{label}, of which only the last {MAX_DAYS} days are on record"
    )


def instance_scope(params: RouteParams) -> dict[str, Any]:
    """The scope as the tools' filter arguments: provider, region, application, tags (environment and team
    are tags on every instance)."""
    tags = dict(params.tags)
    tags |= {k: v for k, v in (("environment", params.environment), ("team", params.team)) if v}
    return {"provider": params.provider, "region": params.region, "application": params.application,
            "tags": tags}  # fmt: skip


def scope_label(params: RouteParams, *, ids: bool = True) -> str:
    """The scope in a reply's words: "GCP, us-central1, staging, team ml"; "" for everything."""
    parts = [_CLOUDS[params.provider]] if params.provider else []
    parts += [p for p in (params.region, params.environment) if p]
    parts += [f"team {params.team}"] if params.team else []
    parts += [f"application {params.application}"] if params.application else []
    parts += [f"{k}={v}" for k, v in params.tags.items()]
    if ids and params.instance_ids:
        shown = ", ".join(params.instance_ids[:3])
        parts.append(
            shown + (f" and {len(params.instance_ids) - 3} more" if len(params.instance_ids) > 3 else "")
        )
    return ", ".join(parts)


def headline(params: RouteParams, *rest: str, ids: bool = True) -> str:
    """A reply's opening words: the scope and anything else that frames the figure, "GCP, last 7 days",
    "Team ml, staging", "Whole fleet"."""
    words = ", ".join(w for w in (scope_label(params, ids=ids) or "Whole fleet", *rest) if w)
    return words[:1].upper() + words[1:]


# Each part of a scope as a reply names it when it cannot be applied.
_PARTS = {
    "provider": "the cloud", "region": "the region", "environment": "the environment", "team": "the team",
    "application": "the application", "tags": "the tags", "instance_ids": "the instances named",
    "instance_type": "the instance type", "period": "the period",
}  # fmt: skip


def unapplied(params: RouteParams, applies: tuple[str, ...], why: str = "") -> list[str]:
    """A line naming what the request scopes that the answer could not apply ("" parts are fine), so
    nothing it asked for is silently dropped; `why` says why, when there is one reason."""
    left = [words for part, words in _PARTS.items() if getattr(params, part) and part not in applies]
    if not left:
        return []
    why = why or "this answer cannot be, it covers the scope above"
    return [f"(Not narrowed to {_joined(left)}: {why}.)"]


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# What a fleet-wide answer can be narrowed to: every instance filter.
FILTERS = ("provider", "region", "environment", "team", "application", "tags")
