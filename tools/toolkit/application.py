"""The application agent's tools: service health and what runs where."""

from __future__ import annotations

from statistics import median

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.settings import AnalysisSettings
from tools.analysis.tolerance import queueing_factor
from tools.errors import ApplicationNotFoundError
from tools.models import CloudName, Instance, InstanceFilter
from tools.provider import CloudProvider
from tools.toolkit.base import provider_tool
from tools.toolkit.results import ApplicationSummary, QualitySummary

# A service's normal is its median over the same minutes of the last week's days; past these, it is flagged.
HEALTH_NORMAL_DAYS = 7
HEALTH_DEGRADED_PCT = 20.0
HEALTH_ERROR_POINTS = 1.0
# p95 at 3× the idle latency is queueing at about 83 % CPU (1 + ρ²/2(1-ρ) = 3): the service runs hot.
SATURATED_LOAD_FACTOR = 3.0


class QualityArgs(BaseModel):
    """An application's health now: p95 latency and error rate against its normal (the same minutes of the
    previous days), how loaded it runs, replicas serving."""

    application: str = Field(description="The application's name (its 'application' tag)")
    minutes: float = Field(60, gt=0, le=24 * 60, description="Window in minutes back from now")


class ApplicationsArgs(BaseModel):
    """Applications, where they run, how many instances, whether stateful, and what they cost per hour."""

    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
    team: str | None = Field(None, description="Only this team's applications")
    limit: int = Field(20, ge=1, le=500, description="How many to return, most expensive first")


def _load_explained(
    cloud: CloudProvider, application: str, latency_rise_pct: float, days: int, minutes: float
) -> str | None:
    """Why a latency rise is the service's own load, or None: its machines' CPU over the window against
    the same minutes of the previous days, and the rise that queueing (tolerance.py) predicts from that."""
    now_cpu, usual_cpu = [], []
    for inst in cloud.list_instances(InstanceFilter(application=application, state="running")):
        series = cloud.metrics(inst.id, hours=days * 24 + minutes / 60, period=300)
        if not len(series.timestamps):
            continue
        current, past = _now_and_past(series.timestamps.tolist(), series.cpu_pct.tolist(), minutes, days)
        if current and past:
            now_cpu.append(median(current))
            usual_cpu.append(median(past))
    if not now_cpu:
        return None
    predicted = (
        median(queueing_factor(n) / queueing_factor(u) for n, u in zip(now_cpu, usual_cpu, strict=True)) - 1
    ) * 100
    if latency_rise_pct > predicted + HEALTH_DEGRADED_PCT:
        return None
    return (
        f"busy: CPU {median(now_cpu):.0f}% against {median(usual_cpu):.0f}% at these hours on other days, "
        f"which explains its p95 latency {latency_rise_pct:+.0f}%"
    )


def _now_and_past(
    times: list[float], values: list[float], minutes: float, days: int
) -> tuple[list[float], list[float]]:
    """The values of the last `minutes` (up to the last sample), and each of the previous `days`' median
    over the same minutes (days without samples left out)."""
    end = times[-1]

    def window(days_back: int) -> list[float]:
        last = end - days_back * 86400
        return [v for t, v in zip(times, values, strict=True) if last - minutes * 60 < t <= last]

    return window(0), [median(w) for d in range(1, days + 1) if (w := window(d))]


def application_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    del settings  # the application tools need no analysis thresholds

    def quality(application: str, minutes: float = 60) -> QualitySummary:
        days = HEALTH_NORMAL_DAYS
        q = cloud.application_quality(application, days * 24 * 60 + minutes)
        times = [t.timestamp() for t in q.timestamps]
        latency, past_latency = _now_and_past(times, q.p95_latency_ms, minutes, days)
        errors, past_errors = _now_and_past(times, q.error_rate, minutes, days)
        normal_latency, normal_errors = median(past_latency), median(past_errors)
        now_latency, now_errors = median(latency), median(errors)
        vs_normal = (now_latency / normal_latency - 1) * 100
        load = now_latency / q.baseline_latency_ms
        reasons: list[str] = []
        busy_note = ""
        # Worse than its normal and than every recent day at these hours, and by more than its load
        # explains: a burst of traffic slows a service through queueing; that is busy, not broken.
        if vs_normal > HEALTH_DEGRADED_PCT and now_latency > max(past_latency):
            busy = _load_explained(cloud, application, vs_normal, days, minutes)
            if busy is None:
                reasons.append(f"p95 latency {vs_normal:+.0f}% against its normal at these hours")
            else:
                busy_note = busy
        if now_errors - normal_errors > HEALTH_ERROR_POINTS / 100 and now_errors > max(past_errors):
            reasons.append(f"error rate {(now_errors - normal_errors) * 100:+.1f} points against its normal")
        if q.serving_replicas < q.desired_replicas:
            reasons.append(f"{q.serving_replicas} of {q.desired_replicas} replicas serving")
        saturated = load >= SATURATED_LOAD_FACTOR
        if saturated:  # its latency and errors are its load's: flagged as saturated, not as degraded
            reasons = [r for r in reasons if "replicas serving" in r]
        degraded = bool(reasons)
        if busy_note:
            reasons.append(busy_note)
        if saturated:
            reasons.append(
                f"saturated: p95 is {load:.1f}× its idle latency, the queueing of machines near full CPU"
            )
        return QualitySummary(
            application=application,
            minutes=minutes,
            latest_p95_latency_ms=round(latency[-1], 1),
            max_p95_latency_ms=round(max(latency), 1),
            p95_latency_ms=round(now_latency, 1),
            normal_p95_latency_ms=round(normal_latency, 1),
            latency_vs_normal_pct=round(vs_normal, 1),
            baseline_latency_ms=q.baseline_latency_ms,
            load_factor=round(load, 2),
            latest_error_rate=round(errors[-1], 5),
            max_error_rate=round(max(errors), 5),
            error_rate=round(now_errors, 5),
            normal_error_rate=round(normal_errors, 5),
            serving_replicas=q.serving_replicas,
            desired_replicas=q.desired_replicas,
            degraded=degraded,
            saturated=saturated,
            reasons=reasons,
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
