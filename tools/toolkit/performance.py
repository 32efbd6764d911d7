"""The performance agent's tools: utilisation and whether machines are the right size."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, field_validator

from tools.analysis.ledger import entries
from tools.analysis.rightsizing import classify
from tools.analysis.settings import AnalysisSettings, RightsizingSettings
from tools.analysis.snapshot import collect
from tools.models import F32
from tools.provider import CloudProvider
from tools.toolkit.base import ScopeArgs, provider_tool
from tools.toolkit.results import MetricsSummary, RightsizingReport, SavingsReport


class MetricsArgs(BaseModel):
    """CPU, memory and network statistics of one instance over a recent window."""

    instance_id: str = Field(description="The instance id, e.g. i-0abc..., gcp-..., vm-...")
    hours: float = Field(24 * 7, gt=0, le=24 * 90, description="Window in hours back from now, up to 2160")


class RightsizingArgs(ScopeArgs):
    """Which running instances in scope are over- or under-provisioned, and the type each should have."""

    instance_ids: list[str] = Field(default_factory=list, description="Only these instances; empty = all")
    percentile: float = Field(95, description="Utilisation percentile to size for: 90, 95 (default) or 99.5")
    headroom: float = Field(
        0.2, ge=0, lt=1, description="Capacity to keep above that percentile (0.2 = 20 %)"
    )
    limit: int = Field(
        10, ge=1, le=200, description="How many recommendations to return, biggest savings first"
    )

    @field_validator("percentile")
    @classmethod
    def _known_percentile(cls, value: float) -> float:
        if value not in (90, 95, 99.5):
            raise ValueError("percentile must be 90, 95 or 99.5")
        return value


def _stat(values: F32, q: float | None = None) -> float | None:
    if len(values) == 0:
        return None
    return round(float(np.percentile(values, q) if q is not None else values.mean()), 2)


def performance_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    def metrics(instance_id: str, hours: float = 168) -> MetricsSummary:
        m = cloud.metrics(instance_id, hours)
        return MetricsSummary(
            instance_id=instance_id,
            hours=hours,
            points=len(m.timestamps),
            cpu_mean_pct=_stat(m.cpu_pct),
            cpu_p50_pct=_stat(m.cpu_pct, 50),
            cpu_p95_pct=_stat(m.cpu_pct, 95),
            cpu_max_pct=_stat(m.cpu_pct, 100),
            memory_p95_pct=_stat(m.memory_pct, 95),
            memory_max_pct=_stat(m.memory_pct, 100),
            network_mean_mbps=_stat(m.network_mbps),
        )

    def find_rightsizing(**args: Any) -> RightsizingReport:
        a = RightsizingArgs(**args)
        chosen = replace(
            settings, rightsizing=RightsizingSettings(percentile=float(a.percentile), headroom=a.headroom)
        )
        snapshot = collect(cloud, a.instance_filter(), chosen)
        findings, _ = classify(snapshot, chosen.rightsizing)
        wanted = set(a.instance_ids)
        counted = [
            f
            for i, f in zip(snapshot.instances, findings.tolist(), strict=True)
            if not wanted or i.id in wanted
        ]
        ledger = entries(snapshot, ["rightsize"], chosen, a.instance_ids)
        return RightsizingReport(
            findings=dict(Counter(counted)),
            savings=SavingsReport.of(ledger, a.limit),
            under_provisioned=sorted(ledger.under_provisioned, key=lambda r: r.monthly_savings)[: a.limit],
        )

    return [
        provider_tool(metrics, "get_instance_metrics", MetricsArgs),
        provider_tool(find_rightsizing, "find_rightsizing", RightsizingArgs),
    ]
