"""The resource agent's tools: inventory, instance details, idle machines (all the time, or off hours), types
and spot risk."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.ledger import read_ledger
from tools.analysis.recommendation import Kind
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import collect
from tools.analysis.spot import assess_spot
from tools.models import CloudName, Instance, InstanceState, InstanceTypeOffer, PricingModel
from tools.provider import CloudProvider
from tools.toolkit.base import ScopeArgs, provider_tool
from tools.toolkit.results import InstanceList, SavingsReport, SpotReport


class ListInstancesArgs(ScopeArgs):
    """Instances in the inventory matching every given filter."""

    state: InstanceState | None = Field(
        None, description="pending, running, stopping, stopped, terminated, ..."
    )
    pricing_model: PricingModel | None = Field(None, description="on-demand, spot or reserved")
    instance_type: str | None = Field(None, description="Only this type, e.g. m5.large")
    limit: int = Field(20, ge=1, le=500, description="How many instances to return (all are counted)")


class DescribeArgs(BaseModel):
    """Everything known about one instance: type, shape, state, price, tags."""

    instance_id: str = Field(description="The instance id, e.g. i-0abc..., gcp-..., vm-...")


class IdleArgs(ScopeArgs):
    """Running instances in scope that do almost nothing (P95 CPU under 3 % and almost no network for 7
    days): the ledger's idle opportunities, counted in full, the biggest savings listed."""

    limit: int = Field(20, ge=1, le=500, description="How many to list, biggest savings first")


class OffHoursArgs(ScopeArgs):
    """Non-production instances in scope idle while their team is away (P95 CPU under 5 % in the hours an
    off-hours schedule would stop them, over two weeks): the ledger's off-hours opportunities, each with the
    schedule it would get (stop 20:00, start 07:00 in the team's time zone, weekends off), counted in full."""

    limit: int = Field(20, ge=1, le=500, description="How many to list, biggest savings first")


class SpotCandidatesArgs(ScopeArgs):
    """On-demand instances in scope that could move to spot: the ledger's spot opportunities (idle machines
    are to be stopped instead, so they are not among them), counted in full, the best listed."""

    limit: int = Field(20, ge=1, le=500, description="How many to list, best first")


class TypesArgs(BaseModel):
    """Instance types sold in a region, cheapest first, optionally filtered by size and GPUs."""

    provider: CloudName = Field(description="aws, gcp or azure")
    region: str | None = Field(None, description="Default: us-east-1, us-central1 or eastus")
    min_vcpus: int = Field(0, ge=0, description="At least this many vCPUs")
    min_memory_gb: float = Field(0, ge=0, description="At least this much memory")
    gpu: bool | None = Field(None, description="True: only GPU types; False: none; omit: both")
    limit: int = Field(20, ge=1, le=500, description="How many types to return")


class SpotRiskArgs(ScopeArgs):
    """Whether on-demand instances could run on spot: interruption band, risk, savings and why."""

    instance_ids: list[str] = Field(
        default_factory=list, description="Instances to assess; empty = all in scope"
    )


def resource_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    def list_instances(**args: Any) -> InstanceList:
        a = ListInstancesArgs(**args)
        scope = a.instance_filter().model_copy(update={"state": a.state, "pricing_model": a.pricing_model})
        found = cloud.list_instances(scope)
        if a.instance_type is not None:  # not a filter every cloud's listing takes: applied here
            found = [i for i in found if i.instance_type == a.instance_type]
        return InstanceList(total=len(found), instances=found[: a.limit])

    def describe(instance_id: str) -> Instance:
        return cloud.get_instance(instance_id)

    def ledger_of(kind: Kind, args: ScopeArgs, limit: int) -> SavingsReport:
        found = read_ledger(cloud, args.instance_filter(), [kind], settings)
        ranked = sorted(found.opportunities, key=lambda r: -r.monthly_savings)
        return SavingsReport.of(found.model_copy(update={"opportunities": ranked}), limit)

    def idle_instances(**args: Any) -> SavingsReport:
        a = IdleArgs(**args)
        return ledger_of("idle", a, a.limit)

    def off_hours_candidates(**args: Any) -> SavingsReport:
        a = OffHoursArgs(**args)
        return ledger_of("off_hours", a, a.limit)

    def spot_candidates(**args: Any) -> SavingsReport:
        a = SpotCandidatesArgs(**args)
        return ledger_of("spot", a, a.limit)

    def types(
        provider: CloudName,
        region: str | None = None,
        min_vcpus: int = 0,
        min_memory_gb: float = 0,
        gpu: bool | None = None,
        limit: int = 20,
    ) -> list[InstanceTypeOffer]:
        offers = [
            o
            for o in cloud.instance_types(provider, region)
            if o.vcpus >= min_vcpus
            and o.memory_gb >= min_memory_gb
            and (gpu is None or (o.gpu_count > 0) == gpu)
        ]
        return offers[:limit]

    def spot_risk(**args: Any) -> SpotReport:
        a = SpotRiskArgs(**args)
        for instance_id in a.instance_ids:
            cloud.get_instance(instance_id)  # an unknown id is an error, not an empty answer
        snapshot = collect(cloud, a.instance_filter(), settings)
        wanted = set(a.instance_ids)
        verdicts = [
            v
            for v in assess_spot(snapshot, settings.spot, guard=settings.guard)
            if not wanted or v.instance_id in wanted
        ]
        eligible = sum(v.eligible for v in verdicts)
        return SpotReport(eligible=eligible, not_eligible=len(verdicts) - eligible, assessments=verdicts)

    return [
        provider_tool(list_instances, "list_instances", ListInstancesArgs),
        provider_tool(describe, "describe_instance", DescribeArgs),
        provider_tool(idle_instances, "find_idle_instances", IdleArgs),
        provider_tool(spot_candidates, "find_spot_candidates", SpotCandidatesArgs),
        provider_tool(off_hours_candidates, "find_off_hours_candidates", OffHoursArgs),
        provider_tool(types, "list_instance_types", TypesArgs),
        provider_tool(spot_risk, "assess_spot_risk", SpotRiskArgs),
    ]
