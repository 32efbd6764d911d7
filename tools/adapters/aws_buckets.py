"""S3 buckets through boto3, for the AWS adapter.

What S3 does not say, and what is done instead (said in the buckets' fields, never guessed silently):
- A bucket's storage class: the class holding most of its bytes (`list_objects_v2`, which S3 Storage Lens
  or an inventory report would replace for buckets of millions of objects).
- How much is read: CloudWatch's request metrics (`AWS/S3` `BytesDownloaded`, filter `EntireBucket`, which
  the bucket's owner enables) over 30 days; a bucket without them has `reads_gb_per_day` None, and no class
  move is advised for it (what a move costs in reads cannot be priced).
- Since when its objects are in their class: a lifecycle transition leaves no date on an object, so
  `class_since` is None and the engine prices the move as if they had just arrived (the whole minimum
  duration charged), never less.

A move copies every object onto itself in the new class (as S3 Batch Operations' copy does); objects already
in it are skipped, so a retried move repeats nothing. Objects in Glacier Flexible Retrieval or Deep Archive
must be restored first: S3 refuses the copy (`ObjectNotInActiveTierError`), which is said as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from mock_cloud.catalog.buckets import STORAGE_CLASSES
from tools.adapters.aws_errors import translated
from tools.errors import InvalidRequestError
from tools.models import Bucket, ResourceFilter

READS_DAYS = 30
_METRICS_FILTER = "EntireBucket"


class S3Buckets:
    """The buckets of the regions an AWS adapter reads (mixed into AwsProvider)."""

    regions: tuple[str, ...]
    _s3: Any
    _cloudwatch: dict[str, Any]
    now: Callable[[], datetime]  # the cloud's time, the adapter's

    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]:
        f = filters or ResourceFilter()
        if f.provider not in (None, "aws"):
            return []
        found = []
        for name, created in sorted(self._created().items()):
            region = self._region(name)
            if region not in self.regions or (f.region is not None and region != f.region):
                continue
            tags = self._tags(name)
            if all(tags.get(k) == v for k, v in f.tag_filter().items()):
                found.append(self._bucket(name, region, tags, created))
        return found

    def get_bucket(self, name: str) -> Bucket:
        region = self._region(name)  # NoSuchBucket for an unknown one
        return self._bucket(name, region, self._tags(name), self._created()[name])

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        if ("aws", storage_class) not in STORAGE_CLASSES:
            known = ", ".join(c for p, c in STORAGE_CLASSES if p == "aws")
            raise InvalidRequestError(
                f"'{storage_class}' is not an S3 storage class: {known}", provider="aws"
            )
        with translated():
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    if obj.get("StorageClass", "STANDARD") == storage_class:
                        continue
                    source = {"Bucket": name, "Key": obj["Key"]}
                    self._s3.copy_object(Bucket=name, Key=obj["Key"], CopySource=source,
                                         StorageClass=storage_class, MetadataDirective="COPY")  # fmt: skip
        return self.get_bucket(name)

    # -- internals --------------------------------------------------------------------------------------
    def _created(self) -> dict[str, datetime]:
        """Every bucket of the account and when it was made (one ListBuckets call)."""
        with translated():
            return {b["Name"]: b["CreationDate"] for b in self._s3.list_buckets().get("Buckets", [])}

    def _region(self, name: str) -> str:
        with translated():
            location = self._s3.get_bucket_location(Bucket=name).get("LocationConstraint")
        return location or "us-east-1"  # S3 answers None for us-east-1

    def _tags(self, name: str) -> dict[str, str]:
        with translated():
            try:
                raw = self._s3.get_bucket_tagging(Bucket=name)["TagSet"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchTagSet":  # S3's answer for no tags
                    return {}
                raise
        return {t["Key"]: t["Value"] for t in raw}

    def _bucket(self, name: str, region: str, tags: dict[str, str], created: datetime) -> Bucket:
        sizes: Counter[str] = Counter()
        objects = 0
        with translated():
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    sizes[obj.get("StorageClass", "STANDARD")] += obj["Size"]
                    objects += 1
        storage_class = sizes.most_common(1)[0][0] if sizes else "STANDARD"
        return Bucket(
            name=name,
            provider="aws",
            region=region,
            storage_class=storage_class,
            size_gb=round(sum(sizes.values()) / 1e9, 6),
            objects=objects,
            reads_gb_per_day=self._reads(name, region),
            created_at=created,
            tags=tags,
        )

    def _reads(self, name: str, region: str) -> float | None:
        end = self.now()
        with translated():
            points = self._cloudwatch[region].get_metric_statistics(
                Namespace="AWS/S3",
                MetricName="BytesDownloaded",
                Dimensions=[
                    {"Name": "BucketName", "Value": name},
                    {"Name": "FilterId", "Value": _METRICS_FILTER},
                ],
                StartTime=end - timedelta(days=READS_DAYS),
                EndTime=end,
                Period=86400,
                Statistics=["Sum"],
            )["Datapoints"]
        if not points:
            return None
        return round(sum(p["Sum"] for p in points) / 1e9 / READS_DAYS, 6)
