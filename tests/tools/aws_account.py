"""A moto AWS account seeded from a simulated fleet: the same machines, metrics, quality and costs.

moto stands in for AWS (no network here). What moto cannot do, throttling, is injected through
botocore's own event hooks, so the adapter sees a real `RequestLimitExceeded` ClientError.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests

from mock_cloud import CloudSimulator
from tools.adapters.aws import QUALITY_NAMESPACE, AwsProvider

# moto launches from any image id; listing its thousands of default AMIs to pick one costs seconds.
IMAGE = "ami-12c6146b"
# Real-time "now" rounded down to the hour, so the seeded hourly points line up with CloudWatch periods.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def seed_account(sim: CloudSimulator, hours: int = 24, storage: bool = False) -> AwsProvider:
    """Inside an active `mock_aws`: launch the simulator's running AWS machines and publish their data; with
    `storage`, their volumes, snapshots and addresses too (a second or two more)."""
    machines = sim.list_instances(provider="aws", state="running")
    regions = sorted({m.region for m in machines})
    shift = NOW.timestamp() - sim.now()  # simulated time → wall time
    aws_ids: dict[str, str] = {}  # the simulator's id → moto's
    for region in regions:
        ec2 = boto3.client("ec2", region_name=region)
        cloudwatch = boto3.client("cloudwatch", region_name=region)
        for m in (m for m in machines if m.region == region):
            tags = [{"Key": k, "Value": v} for k, v in {**m.tags, "Name": m.name}.items()]
            request: dict[str, Any] = {
                "ImageId": IMAGE,
                "InstanceType": m.instance_type,
                "MinCount": 1,
                "MaxCount": 1,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
            }
            if m.pricing_model == "spot":
                request["InstanceMarketOptions"] = {"MarketType": "spot"}
            aws_id = ec2.run_instances(**request)["Instances"][0]["InstanceId"]
            aws_ids[m.id] = aws_id
            series = sim.metrics(m.id, hours=hours)
            dims = [{"Name": "InstanceId", "Value": aws_id}]
            # Seeded a minute into each hour, so each lands in its CloudWatch period.
            when = [datetime.fromtimestamp(t + shift, UTC) + timedelta(minutes=1) for t in series.timestamps]
            bytes_per_hour = 1e6 / 8 * 3600
            ec2_points = (
                _points("CPUUtilization", dims, when, series.cpu_pct)
                + _points("NetworkIn", dims, when, series.network_in_mbps * bytes_per_hour)
                + _points("NetworkOut", dims, when, series.network_out_mbps * bytes_per_hour)
            )
            _publish(cloudwatch, "AWS/EC2", ec2_points)
            _publish(cloudwatch, "CWAgent", _points("mem_used_percent", dims, when, series.memory_pct))
        for application in sorted({m.application for m in machines if m.region == region}):
            quality = sim.application_quality(application, minutes=120, step=300)
            dims = [{"Name": "Application", "Value": application}]
            when = [datetime.fromtimestamp(t + shift, UTC) - timedelta(minutes=1) for t in quality.timestamps]
            points = _points("p95_latency_ms", dims, when, quality.p95_latency_ms) + _points(
                "error_rate", dims, when, quality.error_rate
            )
            _publish(cloudwatch, QUALITY_NAMESPACE, points)
            targets = sim.target_quality(application, minutes=120, step=300)
            for row, sim_id in enumerate(targets.instance_ids):
                if sim_id not in aws_ids:
                    continue
                dims = [
                    {"Name": "Application", "Value": application},
                    {"Name": "InstanceId", "Value": aws_ids[sim_id]},
                ]
                points = _points("p95_latency_ms", dims, when, targets.p95_latency_ms[row]) + _points(
                    "error_rate", dims, when, targets.error_rate[row]
                )
                _publish(cloudwatch, QUALITY_NAMESPACE, points)
    if storage:
        _seed_storage(sim, aws_ids, shift)
    _seed_costs(sim)
    # A day of volume statistics was published: the adapter reads that day, not 14 (moto's metric queries
    # scan every datapoint once per period).
    return AwsProvider(regions, clock=lambda: NOW, sleep=lambda _: None, volume_usage_days=1)


def _seed_storage(sim: CloudSimulator, aws_ids: dict[str, str], shift: float) -> None:
    """The simulator's AWS data volumes (with their workload's IOPS and throughput in CloudWatch, as EBS
    publishes them), their snapshots and public addresses. moto dates every snapshot now, so ages differ."""
    for v in sim.list_volumes(provider="aws").items:
        if v.attached_to is not None and v.attached_to not in aws_ids:
            continue  # attached to a machine that is not running, which the account does not have
        ec2 = boto3.client("ec2", region_name=v.region)
        request: dict[str, Any] = {
            "AvailabilityZone": f"{v.region}a",
            "Size": v.size_gb,
            "VolumeType": v.volume_type,
            "TagSpecifications": [
                {"ResourceType": "volume", "Tags": [{"Key": k, "Value": t} for k, t in v.tags.items()]}
            ],
        }
        if v.volume_type == "io1":
            request["Iops"] = int(v.provisioned_iops)
        made = ec2.create_volume(**request)["VolumeId"]
        if v.attached_to is not None:
            ec2.attach_volume(VolumeId=made, InstanceId=aws_ids[v.attached_to], Device="/dev/sdf")
            # EBS publishes 5-minute sums; one an hour for a day is enough for the p99 to be the workload's.
            dims = [{"Name": "VolumeId", "Value": made}]
            when = [
                datetime.fromtimestamp(sim.now() + shift, UTC) - timedelta(hours=h, minutes=1)
                for h in range(24)
            ]
            ops, moved = v.iops_p99 * 300, v.throughput_p99_mbps * 1e6 * 300
            points = []
            for name, value in (
                ("VolumeReadOps", ops * 0.6),
                ("VolumeWriteOps", ops * 0.4),
                ("VolumeReadBytes", moved * 0.5),
                ("VolumeWriteBytes", moved * 0.5),
            ):
                points += _points(name, dims, when, [value] * len(when))
            _publish(boto3.client("cloudwatch", region_name=v.region), "AWS/EBS", points)
        for snap in sim.list_snapshots(volume_id=v.id).items[-2:]:
            tags = [{"Key": k, "Value": t} for k, t in snap.tags.items()]
            ec2.create_snapshot(VolumeId=made, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])
    _seed_buckets(sim, shift)
    for a in sim.list_addresses(provider="aws").items:
        if a.attached_to is not None and a.attached_to not in aws_ids:
            continue
        ec2 = boto3.client("ec2", region_name=a.region)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.create_tags(Resources=[allocation], Tags=[{"Key": k, "Value": t} for k, t in a.tags.items()])
        if a.attached_to is not None:
            ec2.associate_address(AllocationId=allocation, InstanceId=aws_ids[a.attached_to])


def _seed_buckets(sim: CloudSimulator, shift: float) -> None:
    """The simulator's S3 buckets: their tags, a few small objects in their class (moto keeps every byte in
    memory, so sizes are not the simulator's), and 30 days of request metrics with its reads."""
    s3 = boto3.client("s3", region_name="us-east-1")
    for b in sim.list_buckets(provider="aws").items:
        location = (
            {} if b.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": b.region}}
        )
        s3.create_bucket(Bucket=b.name, **location)
        s3.put_bucket_tagging(
            Bucket=b.name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in b.tags.items()]}
        )
        for k in range(3):
            s3.put_object(Bucket=b.name, Key=f"part-{k}", Body=b"x" * 1024, StorageClass=b.storage_class)
        dims = [{"Name": "BucketName", "Value": b.name}, {"Name": "FilterId", "Value": "EntireBucket"}]
        when = [
            datetime.fromtimestamp(sim.now() + shift, UTC) - timedelta(days=d, hours=1) for d in range(30)
        ]
        downloaded = _points("BytesDownloaded", dims, when, [b.reads_gb_per_day * 1e9] * len(when))
        _publish(boto3.client("cloudwatch", region_name=b.region), "AWS/S3", downloaded)


def _points(name: str, dims: list[dict[str, str]], when: list[datetime], values: Any) -> list[dict[str, Any]]:
    return [
        {"MetricName": name, "Dimensions": dims, "Timestamp": t, "Value": float(v)}
        for t, v in zip(when, values, strict=True)
    ]


def _publish(cloudwatch: Any, namespace: str, points: list[dict[str, Any]]) -> None:
    for begin in range(0, len(points), 1000):  # PutMetricData takes up to 1,000 points a call
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=points[begin : begin + 1000])


def _seed_costs(sim: CloudSimulator, days: int = 8) -> None:
    """Cost Explorer's daily totals for the AWS part of the fleet (moto returns what it is given)."""
    report = sim.costs("day", start=sim.now() - days * 86400)
    aws_share = sim.costs("provider", start=sim.now() - days * 86400)
    share = next(g.amount for g in aws_share.groups if g.key == "aws") / aws_share.total
    by_day = sorted((g.key, g.amount * share) for g in report.groups)

    def next_day(day: str) -> str:
        return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()

    days_out = [
        {
            "TimePeriod": {"Start": day, "End": next_day(day)},
            "Total": {"UnblendedCost": {"Amount": f"{amount:.6f}", "Unit": "USD"}},
            "Groups": [],
            "Estimated": False,
        }
        for day, amount in by_day
    ]
    results: list[dict[str, Any]] = [{"ResultsByTime": days_out}]
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
        json={"results": results},
        timeout=10,
    ).raise_for_status()


class AwsThrottle:
    """Answers an EC2 operation with RequestLimitExceeded, as a busy account does."""

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider
        self._hooks: list[tuple[Any, str, Any]] = []

    def throttle(self, operation: str) -> None:
        api = {"get_instance": "DescribeInstances", "list_instances": "DescribeInstances"}[operation]
        for region in self.provider.regions:
            ec2, _ = self.provider.clients(region)
            event = f"before-call.ec2.{api}"

            def refuse(**_: Any) -> tuple[Any, dict[str, Any]]:
                error = {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."}
                return _Response(503), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 503}}

            ec2.meta.events.register(event, refuse)
            self._hooks.append((ec2, event, refuse))

    def clear_faults(self) -> None:
        for ec2, event, hook in self._hooks:
            ec2.meta.events.unregister(event, hook)
        self._hooks.clear()


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
