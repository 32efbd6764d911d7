"""The instance-type catalog of all three clouds, with regional prices from apache-libcloud's data."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from mock_cloud.catalog.built import cache_path, read_built, write_built
from mock_cloud.catalog.model import (
    PRICING_MODELS,
    Category,
    InstanceType,
    InterruptionBand,
    Offering,
    PricingModel,
)
from mock_cloud.catalog.regions import DEFAULT_REGION, REGIONS
from mock_cloud.clouds import PROVIDERS, Provider
from mock_cloud.errors import InvalidInstanceType, InvalidParameterValue


class Catalog:
    """All instance types, looked up by provider and name."""

    def __init__(self, types: Iterable[InstanceType]) -> None:
        self._types: dict[tuple[str, str], InstanceType] = {(t.provider, t.name): t for t in types}

    def __len__(self) -> int:
        return len(self._types)

    def find(self, provider: str, name: str) -> InstanceType | None:
        return self._types.get((provider, name))

    def get(self, provider: str, name: str) -> InstanceType:
        found = self.find(provider, name)
        if found is None:
            raise InvalidInstanceType(f"The instance type '{name}' does not exist on {provider}")
        return found

    def offering(self, provider: str, region: str, name: str) -> Offering:
        """The type as sold in `region`; refused when the region does not offer it."""
        instance_type = self.get(provider, name)
        if not instance_type.offered_in(region):
            raise InvalidInstanceType(
                f"The instance type '{name}' is not offered in {provider} region {region}"
            )
        return Offering(instance_type, region)

    def types(self, provider: str | None = None, gpu: bool | None = None) -> list[InstanceType]:
        if provider is not None:
            check_provider(provider)
        return [
            t
            for t in self._types.values()
            if (provider is None or t.provider == provider) and (gpu is None or (t.gpu_count > 0) == gpu)
        ]

    def offerings(self, provider: str, region: str | None = None, gpu: bool | None = None) -> list[Offering]:
        """Types sold in one region of `provider` (its default region when none is given), cheapest first."""
        region = region or DEFAULT_REGION[check_provider(provider)]
        if region not in REGIONS[check_provider(provider)]:
            known = ", ".join(REGIONS[check_provider(provider)])
            raise InvalidParameterValue(f"Unknown {provider} region '{region}'; known regions: {known}")
        found = [Offering(t, region) for t in self.types(provider, gpu) if t.offered_in(region)]
        return sorted(found, key=lambda o: (o.on_demand_hourly, o.instance_type.name))


def check_provider(provider: str) -> Provider:
    for known in PROVIDERS:
        if provider == known:
            return known
    raise InvalidParameterValue(f"Unknown provider '{provider}'; expected one of: {', '.join(PROVIDERS)}")


def check_pricing_model(pricing_model: str) -> PricingModel:
    for known in PRICING_MODELS:
        if pricing_model == known:
            return known
    raise InvalidParameterValue(
        f"Unknown pricing model '{pricing_model}'; expected one of: {', '.join(PRICING_MODELS)}"
    )


@functools.cache
def load_catalog() -> Catalog:
    """The full catalog: read from the cache of an earlier build when there is one, else built and cached."""
    path = cache_path()
    types = read_built(path)
    if types is None:
        types = build_instance_types()
        write_built(path, types)
    return Catalog(types)


def build_instance_types() -> list[InstanceType]:
    """Every type of every cloud, from the bundled price data (libcloud's tables are imported only here)."""
    from mock_cloud.catalog.aws import aws_instance_types
    from mock_cloud.catalog.azure import azure_instance_types
    from mock_cloud.catalog.gcp import gcp_instance_types

    return [*aws_instance_types(), *gcp_instance_types(), *azure_instance_types()]


__all__ = [
    "Catalog",
    "Category",
    "DEFAULT_REGION",
    "InstanceType",
    "InterruptionBand",
    "Offering",
    "PRICING_MODELS",
    "PROVIDERS",
    "PricingModel",
    "Provider",
    "REGIONS",
    "check_pricing_model",
    "check_provider",
    "load_catalog",
]
