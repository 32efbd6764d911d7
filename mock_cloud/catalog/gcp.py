"""GCP machine types: predefined shapes from GCP's documented series, priced per vCPU and GB of memory.

pricing.json carries GCP prices the way GCP bills them (per vCPU-hour and per GB-hour of each series, for
on-demand, preemptible and sometimes 1-year commitments); a machine type's price is the sum for its shape.
GCP's GPUs are separate accelerators with no prices in the data, so the simulator offers none on GCP.
"""

from __future__ import annotations

from typing import Any

from mock_cloud.catalog.discounts import (
    GCP_COMMITTED_1Y_DISCOUNT,
    GCP_SPOT_FALLBACK_FACTOR,
    interruption_band,
)
from mock_cloud.catalog.model import Category, InstanceType
from mock_cloud.catalog.regions import GCP_REGIONS
from mock_cloud.catalog.source import compute_prices

# (series, kind, GB of memory per vCPU, vCPU counts), from cloud.google.com/compute/docs/machine-resource.
_SHAPES: tuple[tuple[str, str, float, tuple[int, ...]], ...] = (
    ("n1", "standard", 3.75, (1, 2, 4, 8, 16, 32, 64, 96)),
    ("n1", "highmem", 6.5, (2, 4, 8, 16, 32, 64, 96)),
    ("n1", "highcpu", 0.9, (2, 4, 8, 16, 32, 64, 96)),
    ("n2", "standard", 4.0, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
    ("n2", "highmem", 8.0, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
    ("n2", "highcpu", 1.0, (2, 4, 8, 16, 32, 48, 64, 80, 96)),
    ("n2d", "standard", 4.0, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224)),
    ("n2d", "highmem", 8.0, (2, 4, 8, 16, 32, 48, 64, 80, 96)),
    ("n2d", "highcpu", 1.0, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224)),
    ("e2", "standard", 4.0, (2, 4, 8, 16, 32)),
    ("e2", "highmem", 8.0, (2, 4, 8, 16)),
    ("e2", "highcpu", 1.0, (2, 4, 8, 16, 32)),
    ("c2", "standard", 4.0, (4, 8, 16, 30, 60)),
)
# m1 sizes do not follow a per-vCPU ratio.
_M1 = (("megamem-96", 96, 1433.6), ("ultramem-40", 40, 961.0), ("ultramem-80", 80, 1922.0),
       ("ultramem-160", 160, 3844.0))  # fmt: skip

_CATEGORY = {"standard": Category.GENERAL, "highcpu": Category.COMPUTE, "highmem": Category.MEMORY}


def _rate(series: dict[str, Any], resource: str, tier: str, region: str) -> float | None:
    entry = series.get(resource, {}).get(tier, {}).get(region)
    return float(entry["price"]) if entry else None


def _shape_prices(series: dict[str, Any], vcpus: int, memory_gb: float, tier: str) -> dict[str, float]:
    out = {}
    for region in GCP_REGIONS:
        cpu, ram = _rate(series, "cpu", tier, region), _rate(series, "ram", tier, region)
        if cpu is not None and ram is not None:
            out[region] = round(vcpus * cpu + memory_gb * ram, 6)
    return out


def _machine_type(
    series_name: str, name: str, category: Category, vcpus: int, memory_gb: float
) -> InstanceType | None:
    series = compute_prices()["gce_instances"][series_name]
    on_demand = _shape_prices(series, vcpus, memory_gb, "on_demand")
    if not on_demand:
        return None
    preemptible = _shape_prices(series, vcpus, memory_gb, "preemptible")
    committed = _shape_prices(series, vcpus, memory_gb, "1yr_commitment")
    spot = {r: preemptible.get(r, round(p * GCP_SPOT_FALLBACK_FACTOR, 6)) for r, p in on_demand.items()}
    reserved = {
        r: committed.get(r, round(p * (1 - GCP_COMMITTED_1Y_DISCOUNT), 6)) for r, p in on_demand.items()
    }
    return InstanceType(
        provider="gcp",
        name=name,
        family=series_name,
        category=category,
        vcpus=vcpus,
        memory_gb=round(memory_gb, 3),
        gpu_count=0,
        on_demand=on_demand,
        spot=spot,
        reserved=reserved,
        interruption_band=interruption_band("gcp", name, category),
    )


def gcp_instance_types() -> list[InstanceType]:
    candidates = [
        _machine_type(series, f"{series}-{kind}-{n}", _CATEGORY[kind], n, n * per_vcpu)
        for series, kind, per_vcpu, counts in _SHAPES
        for n in counts
    ]
    candidates += [_machine_type("m1", f"m1-{suffix}", Category.MEMORY, n, mem) for suffix, n, mem in _M1]
    return [t for t in candidates if t is not None]
