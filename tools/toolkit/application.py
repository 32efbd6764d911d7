"""The application agent's tools: service health and what runs where."""

from __future__ import annotations

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.settings import AnalysisSettings
from tools.errors import ApplicationNotFoundError
from tools.models import CloudName, Instance, InstanceFilter
from tools.provider import CloudProvider
from tools.toolkit.base import provider_tool
from tools.toolkit.results import ApplicationSummary, QualitySummary


class QualityArgs(BaseModel):
    """An application's health now: p95 latency and error rate against its baseline, replicas serving."""

    application: str = Field(description="The application's name (its 'application' tag)")
    minutes: float = Field(60, gt=0, le=24 * 60, description="Window in minutes back from now")


class ApplicationsArgs(BaseModel):
    """Applications, where they run, how many instances, whether stateful, and what they cost per hour."""

    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
    team: str | None = Field(None, description="Only this team's applications")
    limit: int = Field(20, ge=1, le=500, description="How many to return, most expensive first")


def application_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    del settings  # the application tools need no analysis thresholds

    def quality(application: str, minutes: float = 60) -> QualitySummary:
        q = cloud.application_quality(application, minutes)
        latest = q.p95_latency_ms[-1]
        return QualitySummary(
            application=application,
            minutes=minutes,
            latest_p95_latency_ms=round(latest, 1),
            max_p95_latency_ms=round(max(q.p95_latency_ms), 1),
            baseline_latency_ms=q.baseline_latency_ms,
            latency_vs_baseline_pct=round((latest / q.baseline_latency_ms - 1) * 100, 1),
            latest_error_rate=round(q.error_rate[-1], 5),
            max_error_rate=round(max(q.error_rate), 5),
            serving_replicas=q.serving_replicas,
            desired_replicas=q.desired_replicas,
        )

    def applications(
        provider: CloudName | None = None, team: str | None = None, limit: int = 20
    ) -> list[ApplicationSummary]:
        tags = {"team": team} if team else {}
        live = [i for i in cloud.list_instances(InstanceFilter(provider=provider, tags=tags))
                if i.state != "terminated" and i.application]  # fmt: skip
        if team and not live:
            raise ApplicationNotFoundError(f"no application of team '{team}'", provider=cloud.name)
        grouped: dict[str, list[Instance]] = {}
        for inst in live:
            grouped.setdefault(inst.application or "", []).append(inst)
        summaries = []
        for name, members in grouped.items():
            tags = members[0].tags
            summaries.append(
                ApplicationSummary(
                    name=name,
                    team=tags.get("team"),
                    environment=tags.get("environment"),
                    tier=tags.get("tier"),
                    stateful=tags.get("stateful") == "true",
                    instances=len(members),
                    providers=sorted({i.provider for i in members}),
                    regions=sorted({i.region for i in members}),
                    hourly_cost=round(sum(i.hourly_price for i in members if i.state == "running"), 4),
                )
            )
        return sorted(summaries, key=lambda s: -s.hourly_cost)[:limit]

    return [
        provider_tool(quality, "get_application_quality", QualityArgs),
        provider_tool(applications, "list_applications", ApplicationsArgs),
    ]
