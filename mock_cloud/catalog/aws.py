"""AWS EC2 instance types: shapes from libcloud's scraped EC2 size table, prices from pricing.json."""

from __future__ import annotations

from typing import Any, cast

from libcloud.compute.constants.ec2_instance_types import INSTANCE_TYPES

from mock_cloud.catalog.discounts import AWS_RESERVED_1Y_DISCOUNT, aws_spot_factor, interruption_band
from mock_cloud.catalog.model import Category, InstanceType
from mock_cloud.catalog.source import compute_prices

AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ap-northeast-1",
)  # fmt: skip

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


def aws_instance_types() -> list[InstanceType]:
    prices = compute_prices()["ec2_linux"]
    types = []
    specs = cast(dict[str, dict[str, Any]], INSTANCE_TYPES)
    for name, spec in sorted(specs.items()):
        extra = spec["extra"]
        vcpus = _count(extra.get("vcpu"))
        regional = prices.get(name, {})
        on_demand = {r: float(regional[r]) for r in AWS_REGIONS if float(regional.get(r) or 0) > 0}
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
            )
        )
    return types
