"""Why a cost series jumped: the machines and dimension values that ran up the extra, read from the bill.

Each anomaly's days are set against the same weekdays of the weeks before (the detector's expectation),
machine by machine, from one daily per-instance breakdown of the series' scope. The extra of machines
that cost nothing in those weeks is *new spend* — an application launched, capacity added — and an
anomaly mostly made of it is reported as such, apart from *spikes* on machines that were already there
(a runaway job, a price change): the first is growth someone decided on, the second money nobody meant
to spend, and only that one is an alert. (A fleet launched by mistake and gone again within days is new
spend too, by this rule: its machines are listed in the root cause, whatever the kind.)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.analysis.anomalies import Anomaly, AnomalySettings, detect
from tools.analysis.cost_series import DIMENSIONS, collect_daily, last_whole_day, midnight_after
from tools.models import Instance, InstanceFilter
from tools.provider import CloudProvider

NEW_SPEND_SHARE = 0.5  # of the extra: above it, the anomaly is new spend rather than a spike
TOP = 5
DECOMMISSIONED = "(decommissioned)"  # a machine on the bill that the inventory no longer lists


class Contributor(BaseModel):
    key: str
    actual_usd: float
    expected_usd: float
    extra_usd: float


class RootCause(BaseModel):
    instances: list[Contributor] = Field(description="The machines that ran up most of the extra")
    dimensions: dict[str, list[Contributor]] = Field(
        description="Per other dimension (application, region, tag:team), its values with most extra"
    )
    new_spend_share: float = Field(description="Share of the extra from machines new since the weeks before")


class FoundAnomaly(Anomaly):
    kind: Literal["spike", "new_spend"]
    root_cause: RootCause


def scope_of(dimension: str, value: str) -> InstanceFilter | None:
    """The instances a series covers (None: the whole fleet, as a service's series does)."""
    if dimension == "provider":
        return InstanceFilter(provider=value)
    if dimension == "region":
        cloud, _, region = value.partition("/")
        return InstanceFilter(provider=cloud, region=region)
    if dimension == "application":
        return InstanceFilter(application=value)
    if dimension.startswith("tag:"):
        return InstanceFilter(tags={dimension[4:]: value})
    return None


def explain(
    provider: CloudProvider,
    anomaly: Anomaly,
    inventory: dict[str, Instance],
    settings: AnomalySettings | None = None,
) -> RootCause:
    """The anomaly's extra, machine by machine, and grouped by the other dimensions."""
    s = settings or AnomalySettings()
    length = (anomaly.end - anomaly.start).days + 1
    span = length + 7 * s.weeks
    report = provider.costs(
        "instance",
        days=span,
        filters=scope_of(anomaly.dimension, anomaly.value),
        until=midnight_after(anomaly.end),
        daily=True,
    )
    ids = [g.key for g in report.groups]
    daily = np.asarray([g.daily or [] for g in report.groups], np.float64).reshape(len(ids), -1)
    daily = daily[:, -span:]  # whole days only: a window that starts part-way into a day has one more
    actual = daily[:, -length:].sum(axis=1)
    # The same weekdays 1 to `weeks` weeks earlier, one column each (settings keep at least one week).
    stacked = np.stack(
        [daily[:, span - length - 7 * k : span - 7 * k].sum(axis=1) for k in range(1, s.weeks + 1)], axis=1
    )
    expected = np.median(stacked, axis=1)
    extra = actual - expected
    new = stacked.min(axis=1) == 0  # absent from one of the weeks before: launched since (or moved in)
    rising = np.clip(extra, 0, None)
    share = float(rising[new].sum() / rising.sum()) if rising.sum() > 0 else 0.0
    rows = [
        Contributor(
            key=k,
            actual_usd=round(float(a), 2),
            expected_usd=round(float(e), 2),
            extra_usd=round(float(x), 2),
        )
        for k, a, e, x in zip(ids, actual, expected, extra, strict=True)
    ]
    dimensions = {
        dim: _grouped(rows, inventory, dim)
        for dim in ("application", "region", "tag:team")
        if dim != anomaly.dimension
    }
    return RootCause(
        instances=sorted(rows, key=lambda c: -c.extra_usd)[:TOP],
        dimensions=dimensions,
        new_spend_share=round(share, 3),
    )


def _grouped(rows: list[Contributor], inventory: dict[str, Instance], dimension: str) -> list[Contributor]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c in rows:
        inst = inventory.get(c.key)
        if inst is None:
            key = DECOMMISSIONED
        elif dimension == "application":
            key = inst.application or "(none)"
        elif dimension == "region":
            key = f"{inst.provider}/{inst.region}"
        else:
            key = inst.tags.get(dimension[4:], "(untagged)")
        sums[key][0] += c.actual_usd
        sums[key][1] += c.expected_usd
    grouped = [
        Contributor(key=k, actual_usd=round(a, 2), expected_usd=round(e, 2), extra_usd=round(a - e, 2))
        for k, (a, e) in sums.items()
    ]
    return sorted(grouped, key=lambda c: -c.extra_usd)[:3]


def find_anomalies(
    provider: CloudProvider,
    days: int = 90,
    since_days: int = 7,
    settings: AnomalySettings | None = None,
) -> list[FoundAnomaly]:
    """The anomalies of the last `since_days` whole days (the series read over `days`), each with its
    root cause and kind; spikes first, then new spend, largest impact first within each."""
    last = last_whole_day(provider.now())
    costs = collect_daily(provider, days, DIMENSIONS, last)
    found = detect(costs, settings, since=last - timedelta(days=since_days - 1))
    if not found:
        return []
    inventory = {i.id: i for i in provider.list_instances()}
    out = []
    for anomaly in found:
        cause = explain(provider, anomaly, inventory, settings)
        kind: Literal["spike", "new_spend"] = (
            "new_spend" if cause.new_spend_share > NEW_SPEND_SHARE else "spike"
        )
        out.append(FoundAnomaly(**anomaly.model_dump(), kind=kind, root_cause=cause))
    return sorted(out, key=lambda a: (a.kind != "spike", -a.impact_usd))
