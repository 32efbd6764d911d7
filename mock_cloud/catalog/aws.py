"""AWS EC2 instance types: shapes from libcloud's scraped EC2 size table, prices from pricing.json."""

from __future__ import annotations

import statistics
from typing import Any, cast

from libcloud.compute.constants.ec2_instance_types import INSTANCE_TYPES

from mock_cloud.catalog.discounts import AWS_RESERVED_1Y_DISCOUNT, aws_spot_factor, interruption_band
from mock_cloud.catalog.model import Category, InstanceType
from mock_cloud.catalog.regions import AWS_REGIONS
from mock_cloud.catalog.source import compute_prices

_CATEGORY_BY_FAMILY_LABEL = {
    "General purpose": Category.GENERAL,
    "Micro instances": Category.BURSTABLE,
    "Compute optimized": Category.COMPUTE,
    "Memory optimized": Category.MEMORY,
    "Storage optimized": Category.STORAGE,
    "GPU instance": Category.GPU,
    "Machine Learning ASIC Instances": Category.ACCELERATOR,
    "FPGA Instances": Category.ACCELERATOR,
    "Media Accelerator Instances": Category.ACCELERATOR,
}


def _count(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _regional_factors(prices: dict[str, dict[str, float | None]]) -> dict[str, float]:
    """Each region's typical price relative to us-east-1: the median ratio over types priced in both."""
    factors = {}
    for region in AWS_REGIONS:
        ratios = [
            (p.get(region) or 0.0) / (p.get("us-east-1") or 1.0)
            for p in prices.values()
            if (p.get(region) or 0) > 0 and (p.get("us-east-1") or 0) > 0
        ]
        factors[region] = statistics.median(ratios)
    return factors


def regional_prices(
    regional: dict[str, float | None], factors: dict[str, float]
) -> tuple[dict[str, float], frozenset[str]]:
    """On-demand prices per region, and the regions whose price is estimated.

    In libcloud's EC2 data a region without the key does not sell the type, but a price of 0.0 is a hole
    left by its scraper (p3.2xlarge reads 0.0 in us-west-2, where it sells for 3.06). A hole is filled
    from the type's own prices elsewhere, scaled by the regions' typical price ratio.
    """
    known = {r: float(p) for r, p in regional.items() if r in factors and p}
    if not known:
        return {}, frozenset()
    holes = [r for r in AWS_REGIONS if r in regional and not regional[r]]
    base = statistics.median(p / factors[r] for r, p in known.items())  # the type's us-east-1 equivalent
    filled = {r: round(base * factors[r], 4) for r in holes}
    return {r: (known | filled)[r] for r in AWS_REGIONS if r in known or r in filled}, frozenset(filled)


def aws_instance_types() -> list[InstanceType]:
    prices = compute_prices()["ec2_linux"]
    factors = _regional_factors(prices)
    types = []
    specs = cast(dict[str, dict[str, Any]], INSTANCE_TYPES)
    for name, spec in sorted(specs.items()):
        extra = spec["extra"]
        vcpus = _count(extra.get("vcpu"))
        on_demand, estimated = regional_prices(prices.get(name, {}), factors)
        if not on_demand or vcpus == 0:
            continue
        family = name.split(".")[0]
        category = _CATEGORY_BY_FAMILY_LABEL.get(extra.get("instanceFamily", ""), Category.GENERAL)
        if family.startswith("t"):
            category = Category.BURSTABLE
        spot_factor = aws_spot_factor(name, category)
        types.append(
            InstanceType(
                provider="aws",
                name=name,
                family=family,
                category=category,
                vcpus=vcpus,
                memory_gb=round(spec["ram"] / 1024, 3),
                gpu_count=_count(extra.get("gpu")),
                on_demand=on_demand,
                spot={r: round(p * spot_factor, 6) for r, p in on_demand.items()},
                reserved={r: round(p * (1 - AWS_RESERVED_1Y_DISCOUNT), 6) for r, p in on_demand.items()},
                interruption_band=interruption_band("aws", name, category),
                estimated_regions=estimated,
                architecture="arm64" if "Graviton" in str(extra.get("physicalProcessor")) else "x86_64",
            )
        )
    return types
