"""Object storage classes per cloud, from the published list prices (USD, the reference region's; other
regions by the block storage factors, `region_factor`).

Sources, read in 2025 (list prices move; these are the figures we model, not a quote):
- AWS S3: aws.amazon.com/s3/pricing (us-east-1): storage per GB-month, data retrieval per GB, lifecycle
  transition requests per 1,000, and the minimum storage duration of the infrequent-access and archive
  classes (an object deleted or moved earlier is charged for the rest of it). Glacier Flexible Retrieval and
  Deep Archive objects are read only after a restore (hours).
- Azure Blob Storage: azure.microsoft.com/pricing/details/storage/blobs (East US, LRS): hot, cool, cold and
  archive access tiers; early deletion after 30, 90 and 180 days; archive blobs are rehydrated before a read.
- GCP Cloud Storage: cloud.google.com/storage/pricing (us-central1): Standard, Nearline, Coldline and
  Archive, each with its retrieval fee and minimum storage duration; every class is read at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_cloud.clouds import Provider
from mock_cloud.errors import InvalidParameterValue


@dataclass(frozen=True)
class StorageClass:
    provider: Provider
    name: str
    gb_month: float  # storage, per GB-month
    retrieval_gb: float  # per GB read
    transition_per_1000: float  # per 1,000 objects moved into it
    minimum_days: int  # an object leaving it earlier is charged for the rest of these days
    coldness: int  # 0 the hottest; colder classes store for less and read for more
    online: bool  # read at once (False: restored first, which takes hours)


_CLASSES = (
    StorageClass("aws", "STANDARD", 0.023, 0.0, 0.0, 0, 0, True),
    StorageClass("aws", "STANDARD_IA", 0.0125, 0.01, 0.01, 30, 1, True),
    StorageClass("aws", "GLACIER_IR", 0.004, 0.03, 0.02, 90, 2, True),
    StorageClass("aws", "GLACIER", 0.0036, 0.01, 0.03, 90, 3, False),
    StorageClass("aws", "DEEP_ARCHIVE", 0.00099, 0.02, 0.05, 180, 4, False),
    StorageClass("azure", "Hot", 0.0184, 0.0, 0.0, 0, 0, True),
    StorageClass("azure", "Cool", 0.01, 0.01, 0.01, 30, 1, True),
    StorageClass("azure", "Cold", 0.0036, 0.03, 0.018, 90, 2, True),
    StorageClass("azure", "Archive", 0.00099, 0.02, 0.02, 180, 3, False),
    StorageClass("gcp", "STANDARD", 0.020, 0.0, 0.0, 0, 0, True),
    StorageClass("gcp", "NEARLINE", 0.010, 0.01, 0.01, 30, 1, True),
    StorageClass("gcp", "COLDLINE", 0.004, 0.02, 0.02, 90, 2, True),
    StorageClass("gcp", "ARCHIVE", 0.0012, 0.05, 0.05, 365, 3, True),
)
STORAGE_CLASSES: dict[tuple[str, str], StorageClass] = {(c.provider, c.name): c for c in _CLASSES}


def storage_class(provider: str, name: str) -> StorageClass:
    found = STORAGE_CLASSES.get((provider, name))
    if found is None:
        known = ", ".join(c for p, c in STORAGE_CLASSES if p == provider)
        raise InvalidParameterValue(f"'{name}' is not a storage class of {provider}: {known}")
    return found


def classes_of(provider: str) -> list[StorageClass]:
    """The cloud's classes, hottest first."""
    return sorted((c for c in _CLASSES if c.provider == provider), key=lambda c: c.coldness)
