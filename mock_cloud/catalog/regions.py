"""The regions the simulator sells in, per cloud, and each cloud's default: names only, so that a command
can check a region without building the catalog."""

from __future__ import annotations

from mock_cloud.clouds import Provider

AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ap-northeast-1",
)  # fmt: skip

GCP_REGIONS = (
    "us-central1", "us-east4", "us-west2", "northamerica-northeast1", "southamerica-east1",
    "europe-west1", "europe-west2", "europe-west4", "asia-east1", "asia-northeast1", "asia-southeast1",
    "australia-southeast1",
)  # fmt: skip

AZURE_REGIONS = (
    "eastus", "eastus2", "centralus", "westus2", "canadacentral", "brazilsouth", "northeurope", "westeurope",
    "uksouth", "southeastasia", "japaneast", "australiaeast",
)  # fmt: skip

REGIONS: dict[Provider, tuple[str, ...]] = {"aws": AWS_REGIONS, "gcp": GCP_REGIONS, "azure": AZURE_REGIONS}
DEFAULT_REGION: dict[Provider, str] = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}
