"""Block storage, snapshot and public-address prices and performance, per cloud, from the published list
prices (USD, the reference region's; other regions by the factors below).

Sources, read in 2025 (list prices move; these are the figures we model, not a quote):
- AWS EBS: aws.amazon.com/ebs/pricing (us-east-1) and docs.aws.amazon.com/ebs/latest/userguide/
  ebs-volume-types.html for each type's IOPS and throughput. Public IPv4 addresses: aws.amazon.com/vpc/pricing
  ("$0.005 per IP per hour for all public IPv4 addresses", in use or idle, since February 2024).
- Azure managed disks: azure.microsoft.com/pricing/details/managed-disks (East US, LRS). A disk is billed by
  the size tier it fits in (a 100 GiB Premium SSD is a P10 of 128 GiB), each tier with its own IOPS and
  throughput. Snapshots: incremental, per GiB used. Public IPs: azure.microsoft.com/pricing/details/
  ip-addresses (Standard, static).
- GCP persistent disks: cloud.google.com/compute/disks-image-pricing (us-central1) and
  cloud.google.com/compute/docs/disks/performance for IOPS and throughput per GB. Static external IPs:
  cloud.google.com/vpc/network-pricing (an address reserved and unused costs twice one in use).
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_cloud.clouds import Provider
from mock_cloud.errors import InvalidParameterValue

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class SizeTier:
    """Azure's disks are sold by size tier: a disk pays, and performs, as the smallest tier it fits in."""

    name: str
    max_gb: int
    month: float
    iops: int
    mbps: int


@dataclass(frozen=True)
class VolumeType:
    provider: Provider
    name: str
    medium: str  # "ssd" or "hdd"
    gb_month: float = 0.0  # per GB-month (by the size tier instead when `tiers` is set)
    iops_per_gb: float = 0.0
    min_iops: float = 0.0
    max_iops: float = 0.0
    included_iops: float = 0.0  # delivered whatever the size (gp3's 3,000)
    iops_month: float = 0.0  # per provisioned IOPS-month (above `included_iops`)
    mbps_per_gb: float = 0.0
    min_mbps: float = 0.0
    max_mbps: float = 0.0
    included_mbps: float = 0.0
    mbps_month: float = 0.0  # per provisioned MB/s-month above `included_mbps`
    mbps_per_iops: float = 0.0  # io1: throughput follows the provisioned IOPS (256 KiB/s each)
    provisioned: bool = False  # IOPS (and throughput) are bought separately, not a function of size
    tiers: tuple[SizeTier, ...] = ()

    def tier(self, size_gb: float) -> SizeTier | None:
        if not self.tiers:
            return None
        for t in self.tiers:
            if size_gb <= t.max_gb:
                return t
        return self.tiers[-1]

    def performance(self, size_gb: float, iops: float = 0.0, mbps: float = 0.0) -> tuple[float, float]:
        """(IOPS, MB/s) a volume of this type and size delivers, with what was provisioned on it."""
        tier = self.tier(size_gb)
        if tier is not None:
            return float(tier.iops), float(tier.mbps)
        if self.provisioned:
            base_iops = max(iops, self.included_iops)
            base_mbps = max(mbps, self.included_mbps, base_iops * self.mbps_per_iops)
        else:
            base_iops = self.included_iops + self.iops_per_gb * size_gb
            base_mbps = self.included_mbps + self.mbps_per_gb * size_gb
        return (
            min(max(base_iops, self.min_iops), self.max_iops),
            min(max(base_mbps, self.min_mbps), self.max_mbps),
        )

    def month(self, size_gb: float, iops: float = 0.0, mbps: float = 0.0, factor: float = 1.0) -> float:
        """USD a month in a region whose prices are `factor` × the reference region's."""
        tier = self.tier(size_gb)
        if tier is not None:
            return tier.month * factor
        extra_iops = max(0.0, iops - self.included_iops) if self.provisioned else 0.0
        extra_mbps = max(0.0, mbps - self.included_mbps) if self.provisioned else 0.0
        return (
            size_gb * self.gb_month + extra_iops * self.iops_month + extra_mbps * self.mbps_month
        ) * factor


def _tiers(prefix: str, rows: tuple[tuple[int, float, int, int], ...]) -> tuple[SizeTier, ...]:
    sizes = (4, 6, 10, 15, 20, 30, 40, 50)
    return tuple(SizeTier(f"{prefix}{s}", gb, month, iops, mbps) for s, (gb, month, iops, mbps) in zip(
        sizes, rows, strict=True))  # fmt: skip


VOLUME_TYPES: dict[tuple[str, str], VolumeType] = {
    (t.provider, t.name): t
    for t in (
        # gp2: 3 IOPS per GB (100 to 16,000); 128 MB/s up to 170 GB, 250 MB/s above.
        VolumeType("aws", "gp2", "ssd", gb_month=0.10, iops_per_gb=3, min_iops=100, max_iops=16_000,
                   min_mbps=128, max_mbps=250, mbps_per_gb=0.75),
        # gp3: 3,000 IOPS and 125 MB/s whatever the size; up to 16,000 and 1,000 bought apart.
        VolumeType("aws", "gp3", "ssd", gb_month=0.08, included_iops=3_000, max_iops=16_000,
                   iops_month=0.005, included_mbps=125, max_mbps=1_000, mbps_month=0.04, provisioned=True),
        # io1: every IOPS bought (up to 64,000); throughput follows them.
        VolumeType("aws", "io1", "ssd", gb_month=0.125, max_iops=64_000, iops_month=0.065,
                   max_mbps=1_000, mbps_per_iops=0.256, provisioned=True),
        # st1: throughput-optimised HDD, 40 MB/s per TB baseline, 500 MB/s at most; 500 (1 MiB) IOPS.
        VolumeType("aws", "st1", "hdd", gb_month=0.045, included_iops=500, max_iops=500,
                   mbps_per_gb=0.04, max_mbps=500),
        VolumeType("azure", "Premium_LRS", "ssd", tiers=_tiers("P", (
            (32, 5.28, 120, 25), (64, 10.21, 240, 50), (128, 19.71, 500, 100), (256, 37.97, 1_100, 125),
            (512, 73.22, 2_300, 150), (1_024, 135.17, 5_000, 200), (2_048, 259.05, 7_500, 250),
            (4_096, 495.57, 7_500, 250)))),
        VolumeType("azure", "StandardSSD_LRS", "ssd", tiers=_tiers("E", (
            (32, 2.40, 500, 60), (64, 4.80, 500, 60), (128, 9.60, 500, 60), (256, 19.20, 500, 60),
            (512, 38.40, 500, 60), (1_024, 76.80, 500, 60), (2_048, 153.60, 500, 60),
            (4_096, 307.20, 500, 60)))),
        VolumeType("azure", "Standard_LRS", "hdd", tiers=_tiers("S", (
            (32, 1.54, 500, 60), (64, 3.01, 500, 60), (128, 5.89, 500, 60), (256, 11.33, 500, 60),
            (512, 21.76, 500, 60), (1_024, 40.96, 500, 60), (2_048, 77.83, 500, 60),
            (4_096, 148.22, 500, 60)))),
        VolumeType("gcp", "pd-standard", "hdd", gb_month=0.04, iops_per_gb=0.75, max_iops=7_500,
                   mbps_per_gb=0.12, max_mbps=1_200),
        VolumeType("gcp", "pd-balanced", "ssd", gb_month=0.10, included_iops=3_000, iops_per_gb=6,
                   max_iops=80_000, included_mbps=140, mbps_per_gb=0.28, max_mbps=1_200),
        VolumeType("gcp", "pd-ssd", "ssd", gb_month=0.17, included_iops=6_000, iops_per_gb=30,
                   max_iops=100_000, included_mbps=240, mbps_per_gb=0.48, max_mbps=1_200),
    )
}  # fmt: skip

# Snapshot storage, USD per GB-month: EBS Snapshots Standard; Azure incremental snapshots (LRS);
# GCP standard snapshots (regional).
SNAPSHOT_GB_MONTH: dict[str, float] = {"aws": 0.05, "azure": 0.05, "gcp": 0.05}

# A public address, USD per hour: (attached to a running machine, idle).
ADDRESS_HOURLY: dict[str, tuple[float, float]] = {
    "aws": (0.005, 0.005),
    "azure": (0.005, 0.005),
    "gcp": (0.005, 0.010),
}

# Storage list prices in other regions relative to the reference one, from the same pages (e.g. gp3 is
# 0.088 in eu-west-1, 0.0952 in eu-central-1, 0.152 in sa-east-1); a region not listed pays the reference.
REGION_FACTORS: dict[str, dict[str, float]] = {
    "aws": {
        "us-west-1": 1.2, "ca-central-1": 1.1, "sa-east-1": 1.9, "eu-west-1": 1.1, "eu-west-2": 1.16,
        "eu-central-1": 1.19, "ap-south-1": 1.14, "ap-southeast-1": 1.2, "ap-southeast-2": 1.2,
        "ap-northeast-1": 1.2,
    },
    "azure": {
        "westus2": 1.0, "canadacentral": 1.1, "brazilsouth": 1.5, "northeurope": 1.05, "westeurope": 1.1,
        "uksouth": 1.1, "southeastasia": 1.15, "japaneast": 1.2, "australiaeast": 1.2,
    },
    "gcp": {
        "us-west2": 1.2, "northamerica-northeast1": 1.1, "southamerica-east1": 1.5, "europe-west1": 1.1,
        "europe-west2": 1.2, "europe-west4": 1.1, "asia-east1": 1.1, "asia-northeast1": 1.3,
        "asia-southeast1": 1.1, "australia-southeast1": 1.35,
    },
}  # fmt: skip


def region_factor(provider: str, region: str) -> float:
    return REGION_FACTORS.get(provider, {}).get(region, 1.0)


def volume_type(provider: str, name: str) -> VolumeType:
    found = VOLUME_TYPES.get((provider, name))
    if found is None:
        known = ", ".join(t for p, t in VOLUME_TYPES if p == provider)
        raise InvalidParameterValue(f"Unknown volume type '{name}' on {provider}; expected one of: {known}")
    return found


def volume_types(provider: str) -> list[VolumeType]:
    return [t for (p, _), t in VOLUME_TYPES.items() if p == provider]
