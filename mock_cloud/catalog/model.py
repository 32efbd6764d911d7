"""What an instance type is, what it costs, and how often its spot capacity is reclaimed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from mock_cloud.clouds import Provider

PricingModel = Literal["on-demand", "spot", "reserved"]
Architecture = Literal["x86_64", "arm64"]
PRICING_MODELS: tuple[PricingModel, ...] = ("on-demand", "spot", "reserved")


class Category(StrEnum):
    GENERAL = "general"
    BURSTABLE = "burstable"
    COMPUTE = "compute"
    MEMORY = "memory"
    STORAGE = "storage"
    GPU = "gpu"
    ACCELERATOR = "accelerator"


class InterruptionBand(StrEnum):
    """Spot interruption frequency per month, in the bands AWS's Spot Instance Advisor and Azure use."""

    UNDER_5 = "<5%"
    FROM_5_TO_10 = "5-10%"
    FROM_10_TO_15 = "10-15%"
    FROM_15_TO_20 = "15-20%"
    OVER_20 = ">20%"

    @property
    def monthly_rate(self) -> float:
        """The band's representative share of spot instances interrupted in a month."""
        return _BAND_RATE[self]


_BAND_RATE = {
    InterruptionBand.UNDER_5: 0.025,
    InterruptionBand.FROM_5_TO_10: 0.075,
    InterruptionBand.FROM_10_TO_15: 0.125,
    InterruptionBand.FROM_15_TO_20: 0.175,
    InterruptionBand.OVER_20: 0.25,
}


@dataclass(frozen=True, slots=True)
class InstanceType:
    """One machine shape of one provider, with its hourly prices (USD) per region."""

    provider: Provider
    name: str
    family: str
    category: Category
    vcpus: int
    memory_gb: float
    gpu_count: int
    on_demand: Mapping[str, float]
    spot: Mapping[str, float]
    reserved: Mapping[str, float]
    interruption_band: InterruptionBand
    # Regions whose on-demand price is estimated because the bundled data has a hole there.
    estimated_regions: frozenset[str] = frozenset()
    # The processor's instruction set: software built for one does not run on the other.
    architecture: Architecture = "x86_64"

    def offered_in(self, region: str) -> bool:
        return region in self.on_demand

    def price(self, region: str, pricing_model: PricingModel) -> float:
        table = {"on-demand": self.on_demand, "spot": self.spot, "reserved": self.reserved}[pricing_model]
        return table[region]


@dataclass(frozen=True, slots=True)
class Offering:
    """An instance type as sold in one region."""

    instance_type: InstanceType
    region: str

    @property
    def on_demand_hourly(self) -> float:
        return self.instance_type.on_demand[self.region]

    @property
    def spot_hourly(self) -> float:
        return self.instance_type.spot[self.region]

    @property
    def reserved_hourly(self) -> float:
        return self.instance_type.reserved[self.region]

    def to_dict(self) -> dict[str, object]:
        t = self.instance_type
        return {
            "name": t.name,
            "provider": t.provider,
            "region": self.region,
            "family": t.family,
            "category": t.category.value,
            "vcpus": t.vcpus,
            "memory_gb": t.memory_gb,
            "gpu_count": t.gpu_count,
            "on_demand_hourly": round(self.on_demand_hourly, 6),
            "spot_hourly": round(self.spot_hourly, 6),
            "reserved_hourly": round(self.reserved_hourly, 6),
            "interruption_band": t.interruption_band.value,
            "architecture": t.architecture,
            "price_source": "estimated" if self.region in t.estimated_regions else "libcloud",
        }
