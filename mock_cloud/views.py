"""Immutable snapshots handed to callers, so nothing outside the simulator mutates its state."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_cloud.catalog import Catalog, PricingModel, Provider
from mock_cloud.fleet import Application
from mock_cloud.instances import Instance, State
from mock_cloud.spot import SpotMarket


@dataclass(frozen=True, slots=True)
class InstanceView:
    id: str
    name: str
    provider: Provider
    region: str
    instance_type: str
    pricing_model: PricingModel
    state: State
    launch_time: float
    application: str
    tags: dict[str, str] = field(hash=False)
    vcpus: int
    memory_gb: float
    gpu_count: int
    hourly_price: float  # USD/h now (spot: the market price of this hour)
    volume_gb: int
    state_transition_until: float | None
    interruption_notice_at: float | None
    interruption_at: float | None
    replaces: str | None
    replaced_by: str | None


@dataclass(frozen=True)
class InstancePage:
    instances: list[InstanceView]
    total: int  # matching instances in all pages


@dataclass(frozen=True)
class Migration:
    """A pricing-model migration: the replacement launched and the original it retires."""

    original: InstanceView
    replacement: InstanceView


@dataclass(frozen=True)
class ApplicationView:
    name: str
    team: str
    environment: str
    tier: str
    stateful: bool
    profile: str
    provider: Provider
    region: str
    replicas: int
    instance_ids: list[str]  # its machines that are not terminated


def instance_view(inst: Instance, catalog: Catalog, spot: SpotMarket, now: float) -> InstanceView:
    shape = catalog.get(inst.provider, inst.instance_type)
    if inst.pricing_model == "spot":
        hourly = spot.price(inst.provider, inst.region, inst.instance_type, now)
    else:
        hourly = shape.price(inst.region, inst.pricing_model)
    noticed = inst.interruption_notice_at is not None
    return InstanceView(
        id=inst.id,
        name=inst.name,
        provider=inst.provider,
        region=inst.region,
        instance_type=inst.instance_type,
        pricing_model=inst.pricing_model,
        state=inst.state,
        launch_time=inst.launch_time,
        application=inst.application,
        tags=dict(inst.tags),
        vcpus=shape.vcpus,
        memory_gb=shape.memory_gb,
        gpu_count=shape.gpu_count,
        hourly_price=round(hourly, 6),
        volume_gb=inst.volume_gb,
        state_transition_until=inst.transition_until,
        interruption_notice_at=inst.interruption_notice_at,
        # Like the clouds, the time of an interruption is only known once its notice is out.
        interruption_at=inst.interruption_at if noticed else None,
        replaces=inst.replaces,
        replaced_by=inst.replaced_by,
    )


def application_view(app: Application, members: list[Instance]) -> ApplicationView:
    return ApplicationView(
        name=app.name,
        team=app.team,
        environment=app.environment,
        tier=app.tier,
        stateful=app.stateful,
        profile=app.profile.label,
        provider=app.provider,
        region=app.region,
        replicas=app.replicas,
        instance_ids=[m.id for m in members if m.state is not State.TERMINATED],
    )
