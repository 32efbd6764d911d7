"""Azure VM sizes: shapes from Azure's documented size series, prices and low-priority prices from the data.

pricing.json keys Azure sizes by their flattened name ("Standard_D2s_v3" → "standardd2sv3"); its
"lowpriority…" entries are Azure's spot-style prices for the same size.
"""

from __future__ import annotations

import statistics

from mock_cloud.catalog.discounts import AZURE_RESERVED_1Y_DISCOUNT, interruption_band
from mock_cloud.catalog.model import Category, InstanceType
from mock_cloud.catalog.regions import AZURE_REGIONS
from mock_cloud.catalog.source import compute_prices

# (name template, vCPU counts, GiB per vCPU, category), from learn.microsoft.com/azure/virtual-machines/sizes.
_RATIO_SERIES: tuple[tuple[str, tuple[int, ...], float, Category], ...] = (
    ("Standard_D{n}_v3", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_D{n}s_v3", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_D{n}_v4", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_D{n}s_v4", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_D{n}a_v4", (2, 4, 8, 16, 32, 48, 64, 96), 4.0, Category.GENERAL),
    ("Standard_D{n}as_v4", (2, 4, 8, 16, 32, 48, 64, 96), 4.0, Category.GENERAL),
    ("Standard_D{n}d_v4", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_D{n}ds_v4", (2, 4, 8, 16, 32, 48, 64), 4.0, Category.GENERAL),
    ("Standard_E{n}_v3", (2, 4, 8, 16, 20, 32, 48), 8.0, Category.MEMORY),
    ("Standard_E{n}s_v3", (2, 4, 8, 16, 20, 32, 48), 8.0, Category.MEMORY),
    ("Standard_E{n}s_v4", (2, 4, 8, 16, 20, 32, 48), 8.0, Category.MEMORY),
    ("Standard_E{n}as_v4", (2, 4, 8, 16, 20, 32, 48, 64), 8.0, Category.MEMORY),
    ("Standard_E{n}ds_v4", (2, 4, 8, 16, 20, 32, 48), 8.0, Category.MEMORY),
    ("Standard_F{n}s_v2", (2, 4, 8, 16, 32, 48, 64, 72), 2.0, Category.COMPUTE),
)
# Sizes whose memory does not follow a per-vCPU ratio: (name, vCPUs, GiB, GPUs, category).
_LISTED_SIZES: tuple[tuple[str, int, float, int, Category], ...] = (
    ("Standard_B1s", 1, 1.0, 0, Category.BURSTABLE),
    ("Standard_B1ms", 1, 2.0, 0, Category.BURSTABLE),
    ("Standard_B2s", 2, 4.0, 0, Category.BURSTABLE),
    ("Standard_B2ms", 2, 8.0, 0, Category.BURSTABLE),
    ("Standard_B4ms", 4, 16.0, 0, Category.BURSTABLE),
    ("Standard_B8ms", 8, 32.0, 0, Category.BURSTABLE),
    ("Standard_B12ms", 12, 48.0, 0, Category.BURSTABLE),
    ("Standard_B16ms", 16, 64.0, 0, Category.BURSTABLE),
    ("Standard_B20ms", 20, 80.0, 0, Category.BURSTABLE),
    ("Standard_E64s_v3", 64, 432.0, 0, Category.MEMORY),
    ("Standard_E64s_v4", 64, 504.0, 0, Category.MEMORY),
    ("Standard_DS1_v2", 1, 3.5, 0, Category.GENERAL),
    ("Standard_DS2_v2", 2, 7.0, 0, Category.GENERAL),
    ("Standard_DS3_v2", 4, 14.0, 0, Category.GENERAL),
    ("Standard_DS4_v2", 8, 28.0, 0, Category.GENERAL),
    ("Standard_DS5_v2", 16, 56.0, 0, Category.GENERAL),
    ("Standard_DS11_v2", 2, 14.0, 0, Category.MEMORY),
    ("Standard_DS12_v2", 4, 28.0, 0, Category.MEMORY),
    ("Standard_DS13_v2", 8, 56.0, 0, Category.MEMORY),
    ("Standard_DS14_v2", 16, 112.0, 0, Category.MEMORY),
    ("Standard_NC6s_v3", 6, 112.0, 1, Category.GPU),
    ("Standard_NC12s_v3", 12, 224.0, 2, Category.GPU),
    ("Standard_NC24s_v3", 24, 448.0, 4, Category.GPU),
    ("Standard_NC4as_T4_v3", 4, 28.0, 1, Category.GPU),
    ("Standard_NC8as_T4_v3", 8, 56.0, 1, Category.GPU),
    ("Standard_NC16as_T4_v3", 16, 110.0, 1, Category.GPU),
    ("Standard_NC64as_T4_v3", 64, 440.0, 4, Category.GPU),
    ("Standard_NV12s_v3", 12, 112.0, 1, Category.GPU),
    ("Standard_NV24s_v3", 24, 224.0, 2, Category.GPU),
    ("Standard_NV48s_v3", 48, 448.0, 4, Category.GPU),
)


def _price_key(name: str) -> str:
    return name.lower().replace("_", "")


def _sizes() -> list[tuple[str, int, float, int, Category]]:
    listed = {size[0] for size in _LISTED_SIZES}
    derived = [
        (template.format(n=n), n, n * per_vcpu, 0, category)
        for template, counts, per_vcpu, category in _RATIO_SERIES
        for n in counts
        if template.format(n=n) not in listed
    ]
    return derived + list(_LISTED_SIZES)


def _regional(prices: dict[str, dict[str, float]], key: str) -> dict[str, float]:
    regional = prices.get(key, {})
    return {r: float(regional[r]) for r in AZURE_REGIONS if float(regional.get(r) or 0) > 0}


def azure_instance_types() -> list[InstanceType]:
    prices = compute_prices()["azure_linux"]
    priced = []
    for name, vcpus, memory_gb, gpus, category in _sizes():
        on_demand = _regional(prices, _price_key(name))
        if on_demand:
            low_priority = _regional(prices, _price_key(name).replace("standard", "lowpriority", 1))
            priced.append((name, vcpus, memory_gb, gpus, category, on_demand, low_priority))
    # Where a size has no low-priority price in a region, use the median low-priority/standard ratio the
    # data shows across all sizes in that region, so the fallback comes from the data too.
    ratios = [lp[r] / od[r] for *_, od, lp in priced for r in lp if r in od]
    fallback_ratio = statistics.median(ratios)
    types = []
    for name, vcpus, memory_gb, gpus, category, on_demand, low_priority in priced:
        types.append(
            InstanceType(
                provider="azure",
                name=name,
                family=_family(name),
                category=category,
                vcpus=vcpus,
                memory_gb=memory_gb,
                gpu_count=gpus,
                on_demand=on_demand,
                spot={r: round(low_priority.get(r, p * fallback_ratio), 6) for r, p in on_demand.items()},
                reserved={r: round(p * (1 - AZURE_RESERVED_1Y_DISCOUNT), 6) for r, p in on_demand.items()},
                interruption_band=interruption_band("azure", name, category),
            )
        )
    return types


def _family(name: str) -> str:
    """The size's series, e.g. Standard_D2s_v3 → Ds_v3, Standard_NC4as_T4_v3 → NCas_T4_v3."""
    body = name.removeprefix("Standard_")
    letters = "".join(ch for ch in body.split("_")[0] if not ch.isdigit())
    rest = body.split("_")[1:]
    return "_".join([letters, *rest])
