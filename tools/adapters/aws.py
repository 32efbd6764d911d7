"""AWS through boto3: EC2 for instances, CloudWatch for metrics and quality, Cost Explorer for costs; EBS
volumes, snapshots and Elastic IPs in aws_storage.py.

What AWS does not tell per instance comes from elsewhere, and says so:
- Prices: the catalog (apache-libcloud's data), as the Pricing API is not queried; spot instances are priced
  at the catalog's spot price, because spot price history is not read either.
- Reservations are a billing construct AWS applies to matching on-demand instances, so an instance is
  "spot" (InstanceLifecycle) or "on-demand" here, never "reserved".
- Memory: CloudWatch has it only from the CloudWatch agent (`CWAgent` / `mem_used_percent`); without the
  agent, memory utilisation is NaN, and rightsizing leaves such instances alone.
- Application quality: read from custom metrics `p95_latency_ms` and `error_rate` in the namespace
  `OptiInfra/Applications`, dimension `Application` (the convention our agents document for services).

Mutations are idempotent by reading before writing: start/stop/terminate are idempotent by state; a
replacement launched for a migration carries the tag `optiinfra:idempotency-key`, so a retry finds it
instead of launching another (the ClientToken is sent too, for EC2's own idempotency).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import numpy.typing as npt
from botocore.config import Config

from mock_cloud.catalog import Catalog
from tools.adapters.aws_buckets import S3Buckets
from tools.adapters.aws_errors import translated
from tools.adapters.aws_storage import EbsStorage
from tools.adapters.remote import PolledCloud, bill_window, breakdown, check_window
from tools.adapters.resizing import resize_by_restart
from tools.adapters.service_quality import check_minutes, quality_report, target_table
from tools.errors import (
    IncorrectStateError,
    InstanceNotFoundError,
    InvalidRequestError,
)
from tools.models import (
    REPLACES_TAG,
    ApplicationQuality,
    CostBreakdown,
    Instance,
    InstanceFilter,
    MetricSeries,
    Migration,
    PricingModel,
    TargetQuality,
    UtilisationSummary,
)
from tools.provider import billable

IDEMPOTENCY_TAG = "optiinfra:idempotency-key"
QUALITY_NAMESPACE = "OptiInfra/Applications"
_CE_GROUPS = {  # our grouping → Cost Explorer's GroupBy
    "service": {"Type": "DIMENSION", "Key": "SERVICE"},
    "region": {"Type": "DIMENSION", "Key": "REGION"},
    "instance_type": {"Type": "DIMENSION", "Key": "INSTANCE_TYPE"},
    "pricing_model": {"Type": "DIMENSION", "Key": "PURCHASE_TYPE"},
    "application": {"Type": "TAG", "Key": "application"},
}
_METRIC_QUERIES_PER_CALL = 500  # GetMetricData's limit


class AwsProvider(EbsStorage, S3Buckets, PolledCloud):
    """A CloudProvider over one AWS account, in the given regions."""

    name = "aws"
    account = "an AWS account"

    def __init__(
        self,
        regions: Sequence[str] = ("us-east-1",),
        *,
        session: boto3.Session | None = None,
        catalog: Catalog | None = None,
        timeout: float = 10.0,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        volume_usage_days: float = 14.0,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep, poll_seconds=poll_seconds, catalog=catalog)
        self.volume_usage_days = volume_usage_days
        session = session or boto3.Session()
        # Retries are ResilientProvider's job: one attempt each here, with timeouts so nothing hangs.
        config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
        self.regions = tuple(regions)
        self._ec2 = {r: session.client("ec2", region_name=r, config=config) for r in self.regions}
        self._cloudwatch = {
            r: session.client("cloudwatch", region_name=r, config=config) for r in self.regions
        }
        self._ce = session.client("ce", region_name="us-east-1", config=config)  # Cost Explorer is global
        self._s3 = session.client("s3", region_name=self.regions[0], config=config)  # buckets: any region

    def clients(self, region: str) -> tuple[Any, Any]:
        """(EC2, CloudWatch) clients of a region, e.g. to register botocore event hooks."""
        return self._ec2[region], self._cloudwatch[region]

    # -- reads ------------------------------------------------------------------------------------------
    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        f = filters or InstanceFilter()
        if f.provider not in (None, "aws"):
            return []
        if f.region is not None and f.region not in self.regions:
            raise InvalidRequestError(
                f"region {f.region} is not one of {', '.join(self.regions)}", provider="aws"
            )
        aws_filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in f.tags.items()]
        if f.state:
            aws_filters.append({"Name": "instance-state-name", "Values": [f.state]})
        if f.application:
            aws_filters.append({"Name": "tag:application", "Values": [f.application]})
        found = []
        for region in [f.region] if f.region else self.regions:
            found += self._describe(region, Filters=aws_filters)
        if f.pricing_model is not None:
            found = [i for i in found if i.pricing_model == f.pricing_model]
        return found

    def get_instance(self, instance_id: str) -> Instance:
        for region in self.regions:
            try:
                found = self._describe(region, InstanceIds=[instance_id])
            except InstanceNotFoundError:
                continue
            if found:
                return found[0]
        raise InstanceNotFoundError(f"The instance ID '{instance_id}' does not exist", provider="aws")

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        check_window(hours, period, "aws")
        inst = self.get_instance(instance_id)
        series = self._metric_data(inst.region, [instance_id], hours, period)[instance_id]
        timestamps = np.asarray(sorted(series["cpu"]), np.float64)

        def column(name: str) -> npt.NDArray[np.float32]:
            return np.asarray([series[name].get(t, math.nan) for t in timestamps], np.float32)

        network = (column("network_in") + column("network_out")) * np.float32(
            8 / period / 1e6
        )  # bytes → Mbps
        return MetricSeries(instance_id, period, timestamps, column("cpu"), column("memory"), network)

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        if not 0 < hours <= 24 * 90 or not percentiles or not all(0 <= q <= 100 for q in percentiles):
            raise InvalidRequestError(
                "hours must be in (0, 2160] and percentiles in [0, 100]", provider="aws"
            )
        running = self.list_instances(InstanceFilter(state="running"))
        qs = list(percentiles)
        ids = [i.id for i in running]
        cpu = np.full((len(qs), len(ids)), np.nan, np.float32)
        memory = np.full_like(cpu, np.nan)
        cpu_mean = np.full(len(ids), np.nan, np.float32)
        network = np.full(len(ids), np.nan, np.float32)
        observed = np.zeros(len(ids), np.int32)
        for region in self.regions:
            rows = [k for k, i in enumerate(running) if i.region == region]
            data = self._metric_data(region, [ids[k] for k in rows], hours, 3600)
            for k in rows:
                series = data[ids[k]]
                c = np.asarray(list(series["cpu"].values()), np.float32)
                if not len(c):
                    continue
                observed[k] = len(c)
                cpu[:, k] = np.percentile(c, qs)
                cpu_mean[k] = c.mean(dtype=np.float64)
                m = np.asarray(list(series["memory"].values()), np.float32)
                if len(m):
                    memory[:, k] = np.percentile(m, qs)
                traffic = sum(series["network_in"].values()) + sum(series["network_out"].values())
                network[k] = traffic * 8 / 3600 / 1e6 / len(c)
        return UtilisationSummary(hours, tuple(qs), ids, cpu, memory, cpu_mean, network, observed)

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        check_minutes(minutes, "aws")
        members = self._members(application)
        region = members[0].region
        end = self.now()
        recent = self._quality_series(region, application, end - timedelta(minutes=minutes), end, 300)
        baseline = self._quality_series(region, application, end - timedelta(days=7), end, 3600)
        return quality_report(application, members, recent, baseline, "aws", QUALITY_NAMESPACE)

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        """Per machine, from the application's own metrics in QUALITY_NAMESPACE with an InstanceId
        dimension next to Application (what an agent on each host, or a load balancer's access logs,
        publishes); the replaced machines a migration terminated are still listed while EC2 lists them."""
        check_minutes(minutes, "aws", step_seconds)
        members = self._members(application)
        end = until or self.now()
        rows = self._target_series(members[0].region, application, [m.id for m in members], end, minutes,
                                   step_seconds)  # fmt: skip
        return target_table(application, members, end, minutes, step_seconds, rows)

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        window = bill_window("aws", group_by, days, tuple(_CE_GROUPS), self.now() if until is None else until)
        f = billable(filters, "aws")
        if f.provider not in (None, "aws"):  # this account's bill holds no other cloud
            return breakdown(window, "aws", [], daily)
        start, end, tag = window.start, window.end, window.tag
        request: dict[str, Any] = {
            "TimePeriod": {
                "Start": start.date().isoformat(),
                "End": (end.date() + timedelta(days=1)).isoformat(),
            },
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
        }
        if expression := _bill_filter(f):
            request["Filter"] = expression
        if tag is not None:
            request["GroupBy"] = [{"Type": "TAG", "Key": tag}]
        elif group_by in _CE_GROUPS:
            request["GroupBy"] = [_CE_GROUPS[group_by]]
        rows: list[tuple[str, str, float]] = []  # (group, ISO day, amount)
        with translated():
            token = None
            while True:
                page = self._ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
                for day in page["ResultsByTime"]:
                    when = day["TimePeriod"]["Start"]
                    if "GroupBy" in request:
                        rows += [
                            # tags come as "key$value"
                            (g["Keys"][0].split("$", 1)[-1] or "(untagged)", when,
                             float(g["Metrics"]["UnblendedCost"]["Amount"]))
                            for g in day.get("Groups", [])
                        ]  # fmt: skip
                    else:
                        rows.append(("aws", when, float(day["Total"]["UnblendedCost"]["Amount"])))
                token = page.get("NextPageToken")
                if not token:
                    break
        return breakdown(window, "aws", rows, daily)

    # -- changes ----------------------------------------------------------------------------------------
    def _begin_start(self, inst: Instance, idempotency_key: str) -> None:
        with translated():
            self._ec2[inst.region].start_instances(InstanceIds=[inst.id])

    def _begin_stop(self, inst: Instance, idempotency_key: str) -> None:
        with translated():
            self._ec2[inst.region].stop_instances(InstanceIds=[inst.id])

    def writes_tags(self) -> bool:
        return True

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        """CreateTags, then DeleteTags: both idempotent by their nature (a tag is set or it is not)."""
        inst = self.get_instance(instance_id)
        ec2 = self._ec2[inst.region]
        with translated():
            if tags:
                ec2.create_tags(
                    Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
                )
            if remove:
                ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": k} for k in remove])
        return self.get_instance(instance_id)

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        inst = self.get_instance(instance_id)
        if inst.state in ("shutting-down", "terminated"):
            return inst
        with translated():
            self._ec2[inst.region].terminate_instances(InstanceIds=[instance_id])
        return self.get_instance(instance_id)

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        """Stop, modify the type, start (EC2 only resizes stopped instances; moto would not refuse)."""

        def change_type(key: str) -> None:
            region = self.get_instance(instance_id).region
            with translated():
                self._ec2[region].modify_instance_attribute(
                    InstanceId=instance_id, InstanceType={"Value": instance_type}
                )

        return resize_by_restart(self, instance_id, instance_type, idempotency_key, change_type)

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration:
        """Launch a replacement of `pricing_model` like the original, then terminate the original."""
        original = self.get_instance(instance_id)
        earlier = self.list_instances(
            InstanceFilter(region=original.region, tags={IDEMPOTENCY_TAG: idempotency_key})
        )
        if earlier:  # a retry: the replacement exists; finish the hand-over if it was interrupted
            replacement = self.wait_until_stable(earlier[0].id)
        else:
            if pricing_model == "reserved":
                raise InvalidRequestError(
                    "reservations are bought, not launched; use on-demand", provider="aws"
                )
            if original.pricing_model == pricing_model:
                raise InvalidRequestError(f"{instance_id} is already {pricing_model}", provider="aws")
            if original.state != "running":
                raise IncorrectStateError(f"{instance_id} must be running to be migrated", provider="aws")
            replacement = self.wait_until_stable(
                self._launch_like(original, pricing_model, idempotency_key).id
            )
        self.terminate(instance_id, f"{idempotency_key}/retire")
        return Migration(
            original=self.get_instance(instance_id), replacement=self.get_instance(replacement.id)
        )

    # -- internals --------------------------------------------------------------------------------------
    def _describe(self, region: str, **kwargs: Any) -> list[Instance]:
        with translated():
            pages = self._ec2[region].get_paginator("describe_instances").paginate(**kwargs)
            return [
                self._instance(raw, region)
                for page in pages
                for r in page["Reservations"]
                for raw in r["Instances"]
            ]

    def _instance(self, raw: dict[str, Any], region: str) -> Instance:
        tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
        pricing: PricingModel = "spot" if raw.get("InstanceLifecycle") == "spot" else "on-demand"
        shape = self._catalog.find("aws", raw["InstanceType"])
        price = shape.price(region, pricing) if shape is not None and shape.offered_in(region) else 0.0
        return Instance(
            id=raw["InstanceId"],
            name=tags.get("Name", raw["InstanceId"]),
            provider="aws",
            region=region,
            instance_type=raw["InstanceType"],
            pricing_model=pricing,
            state=raw["State"]["Name"],
            launch_time=raw["LaunchTime"],
            tags=tags,
            vcpus=shape.vcpus if shape else int(raw.get("CpuOptions", {}).get("CoreCount", 0)),
            memory_gb=shape.memory_gb if shape else 0.0,
            gpu_count=shape.gpu_count if shape else 0,
            hourly_price=price,
            replaces=tags.get(REPLACES_TAG),
        )

    def _launch_like(self, original: Instance, pricing_model: PricingModel, idempotency_key: str) -> Instance:
        ec2 = self._ec2[original.region]
        with translated():
            raw = ec2.describe_instances(InstanceIds=[original.id])["Reservations"][0]["Instances"][0]
            tags = {**original.tags, REPLACES_TAG: original.id, IDEMPOTENCY_TAG: idempotency_key}
            request: dict[str, Any] = {
                "ImageId": raw["ImageId"],
                "InstanceType": original.instance_type,
                "MinCount": 1,
                "MaxCount": 1,
                "ClientToken": idempotency_key[:64],
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                ],
            }
            if raw.get("SubnetId"):
                request["SubnetId"] = raw["SubnetId"]
            if raw.get("SecurityGroups"):
                request["SecurityGroupIds"] = [g["GroupId"] for g in raw["SecurityGroups"]]
            if pricing_model == "spot":
                request["InstanceMarketOptions"] = {
                    "MarketType": "spot",
                    "SpotOptions": {"SpotInstanceType": "one-time"},
                }
            launched = ec2.run_instances(**request)["Instances"][0]
        return self._instance(launched, original.region)

    def _metric_data(
        self, region: str, instance_ids: list[str], hours: float, period: int
    ) -> dict[str, dict[str, dict[float, float]]]:
        """{instance: {cpu|memory|network_in|network_out: {unix time: value}}} from GetMetricData."""
        metrics = {
            "cpu": ("AWS/EC2", "CPUUtilization"),
            "memory": ("CWAgent", "mem_used_percent"),
            "network_in": ("AWS/EC2", "NetworkIn"),
            "network_out": ("AWS/EC2", "NetworkOut"),
        }
        stat = {"cpu": "Average", "memory": "Average", "network_in": "Sum", "network_out": "Sum"}
        queries = []
        for k, iid in enumerate(instance_ids):
            for name, (namespace, metric) in metrics.items():
                queries.append({
                    "Id": f"q{k}_{name}",
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": metric,
                                   "Dimensions": [{"Name": "InstanceId", "Value": iid}]},
                        "Period": period,
                        "Stat": stat[name],
                    },
                })  # fmt: skip
        end = self.now()
        out: dict[str, dict[str, dict[float, float]]] = {
            iid: {n: {} for n in metrics} for iid in instance_ids
        }
        with translated():
            for begin in range(0, len(queries), _METRIC_QUERIES_PER_CALL):
                response = self._cloudwatch[region].get_metric_data(
                    MetricDataQueries=queries[begin : begin + _METRIC_QUERIES_PER_CALL],
                    StartTime=end - timedelta(hours=hours),
                    EndTime=end,
                )
                for result in response["MetricDataResults"]:
                    k, name = result["Id"][1:].split("_", 1)
                    series = out[instance_ids[int(k)]][name]
                    for t, v in zip(result["Timestamps"], result["Values"], strict=True):
                        series[t.timestamp()] = float(v)
        return out

    def _target_series(
        self,
        region: str,
        application: str,
        instance_ids: list[str],
        end: datetime,
        minutes: float,
        period: int,
    ) -> list[dict[str, dict[float, float]]]:
        """Per instance (in order), its p95 latency and error rate points: unix start of period → value."""
        found: list[dict[str, dict[float, float]]] = [
            {"p95_latency_ms": {}, "error_rate": {}} for _ in instance_ids
        ]
        queries = [
            {
                "Id": f"{'l' if name == 'p95_latency_ms' else 'e'}{row}",
                "MetricStat": {
                    "Metric": {"Namespace": QUALITY_NAMESPACE, "MetricName": name,
                               "Dimensions": [{"Name": "Application", "Value": application},
                                              {"Name": "InstanceId", "Value": iid}]},
                    "Period": period,
                    "Stat": "Maximum" if name == "p95_latency_ms" else "Average",
                },
            }
            for row, iid in enumerate(instance_ids)
            for name in ("p95_latency_ms", "error_rate")
        ]  # fmt: skip
        start = end - timedelta(minutes=minutes)
        for begin in range(0, len(queries), 500):  # GetMetricData takes up to 500 queries a call
            with translated():
                response = self._cloudwatch[region].get_metric_data(
                    MetricDataQueries=queries[begin : begin + 500], StartTime=start, EndTime=end
                )
            for r in response["MetricDataResults"]:
                name = "p95_latency_ms" if r["Id"][0] == "l" else "error_rate"
                points = found[int(r["Id"][1:])][name]
                points.update(
                    {t.timestamp(): float(v) for t, v in zip(r["Timestamps"], r["Values"], strict=True)}
                )
        return found

    def _quality_series(
        self, region: str, application: str, start: datetime, end: datetime, period: int
    ) -> dict[str, dict[float, float]]:
        queries = [
            {
                "Id": name,
                "MetricStat": {
                    "Metric": {"Namespace": QUALITY_NAMESPACE, "MetricName": name,
                               "Dimensions": [{"Name": "Application", "Value": application}]},
                    "Period": period,
                    "Stat": "Maximum" if name == "p95_latency_ms" else "Average",
                },
            }
            for name in ("p95_latency_ms", "error_rate")
        ]  # fmt: skip
        with translated():
            response = self._cloudwatch[region].get_metric_data(
                MetricDataQueries=queries, StartTime=start, EndTime=end
            )
        return {
            r["Id"]: {t.timestamp(): float(v) for t, v in zip(r["Timestamps"], r["Values"], strict=True)}
            for r in response["MetricDataResults"]
        }


def _bill_filter(f: InstanceFilter) -> dict[str, Any] | None:
    """Cost Explorer's filter expression for a region, an application and tags (None: the whole bill)."""
    tags = f.tags | ({"application": f.application} if f.application else {})
    parts: list[dict[str, Any]] = [{"Tags": {"Key": k, "Values": [v]}} for k, v in sorted(tags.items())]
    if f.region:
        parts.append({"Dimensions": {"Key": "REGION", "Values": [f.region]}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"And": parts}
