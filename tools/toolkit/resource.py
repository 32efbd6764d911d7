"""The resource agent's tools: inventory, instance details, idle machines, types and spot risk."""

from __future__ import annotations

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.analysis.idle import idle
from tools.analysis.recommendation import Recommendation
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import collect
from tools.analysis.spot import assess_spot
from tools.models import CloudName, Instance, InstanceFilter, InstanceState, InstanceTypeOffer, PricingModel
from tools.provider import CloudProvider
from tools.toolkit.base import provider_tool
from tools.toolkit.results import InstanceList, SpotReport


class ListInstancesArgs(BaseModel):
    """Instances in the inventory matching every given filter."""

    provider: CloudName | None = Field(None, description="aws, gcp or azure")
    region: str | None = Field(None, description="e.g. us-east-1, europe-west1, westeurope")
    state: InstanceState | None = Field(
        None, description="pending, running, stopping, stopped, terminated, ..."
    )
    pricing_model: PricingModel | None = Field(None, description="on-demand, spot or reserved")
    application: str | None = Field(None, description="The application the instances serve")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags that must match, e.g. {'team': 'web'}"
    )
    limit: int = Field(20, ge=1, le=500, description="How many instances to return")


class DescribeArgs(BaseModel):
    """Everything known about one instance: type, shape, state, price, tags."""

    instance_id: str = Field(description="The instance id, e.g. i-0abc..., gcp-..., vm-...")


class IdleArgs(BaseModel):
    """Running instances that do almost nothing (P95 CPU under 3 % and almost no network for 7 days)."""

    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
    limit: int = Field(20, ge=1, le=500, description="How many to return, biggest savings first")


class TypesArgs(BaseModel):
    """Instance types sold in a region, cheapest first, optionally filtered by size and GPUs."""

    provider: CloudName = Field(description="aws, gcp or azure")
    region: str | None = Field(None, description="Default: us-east-1, us-central1 or eastus")
    min_vcpus: int = Field(0, ge=0, description="At least this many vCPUs")
    min_memory_gb: float = Field(0, ge=0, description="At least this much memory")
    gpu: bool | None = Field(None, description="True: only GPU types; False: none; omit: both")
    limit: int = Field(20, ge=1, le=500, description="How many types to return")


class SpotRiskArgs(BaseModel):
    """Whether on-demand instances could run on spot: interruption band, risk, savings and why."""

    instance_ids: list[str] = Field(
        default_factory=list, description="Instances to assess; empty = all in scope"
    )
    provider: CloudName | None = Field(None, description="Only this cloud: aws, gcp or azure")
    application: str | None = Field(None, description="Only this application's instances")


def resource_tools(cloud: CloudProvider, settings: AnalysisSettings) -> list[BaseTool]:
    def list_instances(limit: int = 20, **filters: object) -> InstanceList:
        found = cloud.list_instances(InstanceFilter.model_validate(filters))
        return InstanceList(total=len(found), instances=found[:limit])

    def describe(instance_id: str) -> Instance:
        return cloud.get_instance(instance_id)

    def idle_instances(provider: CloudName | None = None, limit: int = 20) -> list[Recommendation]:
        found = idle(collect(cloud, InstanceFilter(provider=provider), settings), settings.idle)
        return sorted(found, key=lambda r: -r.monthly_savings)[:limit]

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

    def spot_risk(
        instance_ids: list[str] | None = None,
        provider: CloudName | None = None,
        application: str | None = None,
    ) -> SpotReport:
        for instance_id in instance_ids or []:
            cloud.get_instance(instance_id)  # an unknown id is an error, not an empty answer
        snapshot = collect(cloud, InstanceFilter(provider=provider, application=application), settings)
        wanted = set(instance_ids or [])
        verdicts = [v for v in assess_spot(snapshot, settings.spot) if not wanted or v.instance_id in wanted]
        eligible = sum(v.eligible for v in verdicts)
        return SpotReport(eligible=eligible, not_eligible=len(verdicts) - eligible, assessments=verdicts)

    return [
        provider_tool(list_instances, "list_instances", ListInstancesArgs),
        provider_tool(describe, "describe_instance", DescribeArgs),
        provider_tool(idle_instances, "find_idle_instances", IdleArgs),
        provider_tool(types, "list_instance_types", TypesArgs),
        provider_tool(spot_risk, "assess_spot_risk", SpotRiskArgs),
    ]
