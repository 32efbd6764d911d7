"""Spot and reserved prices the bundled price data does not carry, and spot interruption bands.

libcloud's pricing.json has on-demand prices for all three clouds, GCP preemptible and (for some families)
commitment prices, and Azure low-priority prices. Everything else is derived here, each number with its
source. Published discounts move; these are the figures we model, not a quote.
"""

from __future__ import annotations

from mock_cloud.catalog.model import Category, InterruptionBand
from mock_cloud.stable import stable_unit

# AWS spot savings over on-demand by category: the middle of the ranges the EC2 Spot Instance Advisor
# (aws.amazon.com/ec2/spot/instance-advisor) showed for these families in 2024-2025 (typically 55-75 %).
# Each type then varies by up to ±6 points (deterministic per type), as the advisor's per-type figures do.
AWS_SPOT_SAVINGS: dict[Category, float] = {
    Category.GENERAL: 0.64,
    Category.BURSTABLE: 0.66,
    Category.COMPUTE: 0.62,
    Category.MEMORY: 0.68,
    Category.STORAGE: 0.70,
    Category.GPU: 0.66,
    Category.ACCELERATOR: 0.60,
}
SPOT_SAVINGS_SPREAD = 0.06

# AWS 1-year Standard Reserved Instance, no upfront: m5.large in us-east-1 is 0.060 USD/h against 0.096
# on demand (aws.amazon.com/ec2/pricing/reserved-instances/pricing), i.e. 37.5 % off.
AWS_RESERVED_1Y_DISCOUNT = 0.375

# GCP 1-year committed use discount for general-purpose and compute-optimised machine types:
# "37 % for 1-year commitments" (cloud.google.com/compute/docs/instances/committed-use-discounts-overview).
# Used only where pricing.json has no 1yr_commitment price for the family.
GCP_COMMITTED_1Y_DISCOUNT = 0.37

# GCP Spot VMs are "60-91 % off" on-demand (cloud.google.com/spot-vms). pricing.json has preemptible prices
# for every series we offer; this factor is only a fallback for a region where one is missing.
GCP_SPOT_FALLBACK_FACTOR = 0.30

# Azure 1-year reserved VM instance: D2s_v3 in East US is about 0.0566 USD/h against 0.096 pay-as-you-go
# (azure.microsoft.com/pricing/details/virtual-machines/linux), i.e. about 41 % off.
AZURE_RESERVED_1Y_DISCOUNT = 0.41

# Share of types per interruption band by category. AWS's advisor shows most general-purpose types under
# 5 %/month and GPU types spread towards the high bands; Azure's eviction-rate view looks alike. GCP does
# not publish rates; the simulator uses the same distribution.
BAND_WEIGHTS: dict[Category, tuple[float, float, float, float, float]] = {
    Category.GENERAL: (0.55, 0.25, 0.10, 0.05, 0.05),
    Category.BURSTABLE: (0.60, 0.25, 0.10, 0.03, 0.02),
    Category.COMPUTE: (0.45, 0.30, 0.12, 0.08, 0.05),
    Category.MEMORY: (0.50, 0.25, 0.12, 0.08, 0.05),
    Category.STORAGE: (0.50, 0.30, 0.10, 0.05, 0.05),
    Category.GPU: (0.15, 0.20, 0.25, 0.20, 0.20),
    Category.ACCELERATOR: (0.20, 0.25, 0.25, 0.15, 0.15),
}
_BANDS = tuple(InterruptionBand)


def aws_spot_factor(name: str, category: Category) -> float:
    """The fraction of the on-demand price an AWS spot instance of this type costs."""
    jitter = (stable_unit("aws-spot", name) * 2 - 1) * SPOT_SAVINGS_SPREAD
    return 1.0 - (AWS_SPOT_SAVINGS[category] + jitter)


def interruption_band(provider: str, name: str, category: Category) -> InterruptionBand:
    """The type's band, fixed per provider and type like the advisor's published view."""
    u = stable_unit("band", provider, name)
    cumulative = 0.0
    for band, weight in zip(_BANDS, BAND_WEIGHTS[category], strict=True):
        cumulative += weight
        if u < cumulative:
            return band
    return _BANDS[-1]
