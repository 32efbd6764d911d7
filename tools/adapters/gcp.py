"""GCP through its SDKs: `google-cloud-compute` (REST) for instances, `google-cloud-monitoring` for metrics.

What GCP does not tell per instance comes from elsewhere, and says so:
- Prices: the catalog's list prices (apache-libcloud's data); a Spot instance at the catalog's spot price.
- Costs are **estimated**: the Cloud Billing export to BigQuery is where GCP keeps the bill, and reading it
  is not built, so a cost is each listed instance's running time (Monitoring's `instance/uptime`) times its
  list price now. Instances deleted meanwhile, disks, discounts and a type changed within the window are
  not in it; `CostBreakdown` figures from this adapter are labelled as estimates in the README.
- Memory: the Ops Agent's `agent.googleapis.com/memory/percent_used`; without the agent it is NaN, and
  rightsizing leaves such instances alone.
- Application quality: custom metrics `custom.googleapis.com/optiinfra/p95_latency_ms` and `error_rate`
  with the label `application` (per instance on `gce_instance`, for the whole service on `global`).
- Reservations (committed use) are billing, so an instance is "spot" (provisioning model SPOT) or
  "on-demand" here, never "reserved".

Instances are named by their GCE name. Operations are waited for with `zoneOperations.wait`. A spot
migration inserts a SPOT instance made as the original was (machine type, a boot disk from its image, its
subnetwork, service account and metadata), named after the idempotency key, labelled `replaces` and
`optiinfra-idempotency-key` (a digest: labels allow only [a-z0-9_-]), with a `requestId` derived from the
key so GCE itself refuses a second insert; then it deletes the original. Retries are ResilientProvider's job.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import numpy as np
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError
from google.cloud import compute_v1, monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport
from requests.exceptions import RequestException

from mock_cloud.catalog import Catalog
from tools.adapters.machines_only import MachinesOnly
from tools.adapters.remote import (
    ForgettingCloud,
    bill_window,
    breakdown,
    catalog_shape,
    check_window,
    matching,
    summarise,
)
from tools.adapters.resizing import resize_by_restart
from tools.adapters.service_quality import check_minutes, quality_report, target_table
from tools.errors import (
    CLOUD_CODES,
    InstanceNotFoundError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    ThrottledError,
    UnsupportedOperationError,
    from_cloud_code,
)
from tools.models import (
    REPLACES_TAG,
    ApplicationQuality,
    CostBreakdown,
    Instance,
    InstanceFilter,
    InstanceState,
    MetricSeries,
    PricingModel,
    TargetQuality,
    UtilisationSummary,
)
from tools.provider import billable

IDEMPOTENCY_LABEL = "optiinfra-idempotency-key"
COMPUTE = "https://compute.googleapis.com"
CUSTOM = "custom.googleapis.com/optiinfra/"
COST_GROUPS = ("region", "instance_type", "pricing_model", "service", "application")
_STATUS: dict[str, InstanceState] = {
    "PROVISIONING": "pending",
    "STAGING": "pending",
    "REPAIRING": "pending",
    "RUNNING": "running",
    "STOPPING": "stopping",
    "SUSPENDING": "stopping",
    "TERMINATED": "stopped",
    "SUSPENDED": "stopped",
}
_METRICS = {
    "cpu": "compute.googleapis.com/instance/cpu/utilization",
    "memory": "agent.googleapis.com/memory/percent_used",
    "network_in": "compute.googleapis.com/instance/network/received_bytes_count",
    "network_out": "compute.googleapis.com/instance/network/sent_bytes_count",
}
_ACTIONS: dict[str, Any] = {
    "start": compute_v1.StartInstanceRequest,
    "stop": compute_v1.StopInstanceRequest,
    "delete": compute_v1.DeleteInstanceRequest,
    "set_machine_type": compute_v1.SetMachineTypeInstanceRequest,
    "insert": compute_v1.InsertInstanceRequest,
}
_ALIGNERS = {
    "cpu": "ALIGN_MEAN",
    "memory": "ALIGN_MEAN",
    "network_in": "ALIGN_SUM",
    "network_out": "ALIGN_SUM",
}


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except google_errors.GoogleAPICallError as exc:
        raise _typed(exc) from exc
    except (google_errors.RetryError, RequestException, GoogleAuthError) as exc:
        raise ProviderUnavailableError(f"cannot reach GCP: {exc}", provider="gcp") from exc


def _typed(exc: google_errors.GoogleAPICallError) -> ProviderError:
    reasons = [e.get("reason", "") for e in exc.errors if isinstance(e, dict)]
    reason = next((r for r in reasons if r in CLOUD_CODES), reasons[0] if reasons else "")
    message = str(exc.message)
    if reason in CLOUD_CODES:
        return from_cloud_code(reason, message, "gcp")
    if isinstance(exc, google_errors.TooManyRequests | google_errors.ResourceExhausted):
        return ThrottledError(message, provider="gcp", cloud_code="rateLimitExceeded")
    if isinstance(exc, google_errors.NotFound):
        return InstanceNotFoundError(message, provider="gcp", cloud_code="notFound")
    if isinstance(exc, google_errors.ServerError):
        return ProviderUnavailableError(message, provider="gcp", cloud_code=reason or str(exc.code))
    return InvalidRequestError(message, provider="gcp", cloud_code=reason or None)


class GcpProvider(MachinesOnly, ForgettingCloud):
    """A CloudProvider over one GCP project, in all its zones or the ones given."""

    name = "gcp"
    account = "a GCP project"

    def __init__(
        self,
        project: str,
        zones: Sequence[str] = (),
        *,
        credentials: Credentials | None = None,
        endpoint: str = COMPUTE,
        monitoring_endpoint: str | None = None,
        catalog: Catalog | None = None,
        timeout: float = 10.0,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep, poll_seconds=poll_seconds, catalog=catalog)
        self.project = project
        self.zones = tuple(zones)
        self._timeout = timeout
        options = ClientOptions(api_endpoint=endpoint)
        self._instances = compute_v1.InstancesClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self._disks = compute_v1.DisksClient(
            credentials=credentials, transport="rest", client_options=options
        )
        self._operations = compute_v1.ZoneOperationsClient(
            credentials=credentials, transport="rest", client_options=options
        )
        # The cloud's time comes from Compute Engine's Date headers (Monitoring's gRPC answers carry none).
        # The REST transport's requests session is not public; a response hook on it is the only way in.
        session = getattr(self._instances.transport, "_session", None)
        if session is not None:
            session.hooks["response"].append(
                lambda answer, *_, **__: self.server_clock.observe(answer.headers.get("Date"))
            )
        if monitoring_endpoint is None:
            self._monitoring = monitoring_v3.MetricServiceClient(credentials=credentials)
        else:  # a local stand-in (the simulator's): plaintext gRPC, no per-call credentials
            channel = grpc.insecure_channel(monitoring_endpoint)
            self._monitoring = monitoring_v3.MetricServiceClient(
                transport=MetricServiceGrpcTransport(channel=channel)
            )
        self._zone_of: dict[str, str] = {}  # instance name → its zone, from the latest listing
        self._number_of: dict[str, int] = {}  # instance name → GCE's numeric id

    def close(self) -> None:
        self._monitoring.transport.close()

    # -- reads ------------------------------------------------------------------------------------------

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        f = filters or InstanceFilter()
        if f.provider not in (None, "gcp"):
            return []
        with _translated():
            if self.zones:
                raw = [
                    i
                    for zone in self.zones
                    for i in self._instances.list(project=self.project, zone=zone, timeout=self._timeout)
                ]
            else:
                request = compute_v1.AggregatedListInstancesRequest(project=self.project, max_results=500)
                raw = [
                    i
                    for _, scoped in self._instances.aggregated_list(request=request, timeout=self._timeout)
                    for i in scoped.instances
                ]
        found = []
        for vm in raw:
            self._zone_of[vm.name] = vm.zone.rpartition("/")[2]
            self._number_of[vm.name] = vm.id
            found.append(self._instance(vm))
        return matching(found, f)

    def get_instance(self, instance_id: str) -> Instance:
        zone = self._zone(instance_id)
        with _translated():
            vm = self._instances.get(
                project=self.project, zone=zone, instance=instance_id, timeout=self._timeout
            )
        self._number_of[vm.name] = vm.id
        return self._instance(vm)

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        check_window(hours, period, "gcp")
        self.get_instance(instance_id)
        end = self.now()
        series = self._machine_series(end - timedelta(hours=hours), end, period, instance_id)
        points = series.get(instance_id, {})
        times = np.asarray(sorted(points.get("cpu", {})), np.float64)

        def column(name: str) -> np.ndarray[Any, np.dtype[np.float32]]:
            return np.asarray([points.get(name, {}).get(t, math.nan) for t in times], np.float32)

        network = (column("network_in") + column("network_out")) * np.float32(8 / period / 1e6)
        return MetricSeries(instance_id, period, times, column("cpu") * 100, column("memory"), network)

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        """Four calls for the whole project (one a metric), however many instances it holds."""
        running = self.list_instances(InstanceFilter(state="running")) if 0 < hours <= 2160 else []
        end = self.now()
        series = self._machine_series(end - timedelta(hours=hours), end, 3600) if running else {}

        def hourly(inst: Instance) -> dict[str, list[float]]:
            points = series.get(inst.id, {})
            times = sorted(points.get("cpu", {}))
            inbound, outbound = points.get("network_in", {}), points.get("network_out", {})
            traffic = [(inbound.get(t, 0.0) + outbound.get(t, 0.0)) * 8 / 3600 / 1e6 for t in times]
            return {
                "cpu": [points["cpu"][t] * 100 for t in times],
                "memory": [points.get("memory", {}).get(t, math.nan) for t in times],
                "network": traffic,
            }

        return summarise("gcp", hours, percentiles, running, hourly)

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        check_minutes(minutes, "gcp")
        members = self._members(application)
        end = self.now()
        recent = self._quality(application, None, end - timedelta(minutes=minutes), end, 300)
        baseline = self._quality(application, None, end - timedelta(days=7), end, 3600)
        return quality_report(application, members, recent, baseline, "gcp", CUSTOM)

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        check_minutes(minutes, "gcp", step_seconds)
        members = self._members(application)
        end = until or self.now()
        start = end - timedelta(seconds=max(1, int(minutes * 60 // step_seconds)) * step_seconds)
        rows = [self._quality(application, m.id, start, end, step_seconds) for m in members]
        return target_table(application, members, end, minutes, step_seconds, rows)

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        """Estimated: each listed instance's hours running (Monitoring's uptime) × its list price."""
        window = bill_window("gcp", group_by, days, COST_GROUPS, self.now() if until is None else until)
        f = billable(filters, "gcp")
        rows: list[tuple[str, str, float]] = []
        if f.provider in (None, "gcp"):
            scope = InstanceFilter(region=f.region, application=f.application, tags=f.tags)
            machines = {i.id: i for i in self.list_instances(scope)}
            if machines:
                uptime = self._series(
                    "compute.googleapis.com/instance/uptime",
                    "ALIGN_SUM",
                    window.start,
                    window.end,
                    3600,
                    None,
                )
                for name, points in uptime.items():
                    inst = machines.get(name)
                    if inst is None:
                        continue
                    key = _cost_key(inst, group_by, window.tag)
                    for t, seconds in points.items():
                        day = datetime.fromtimestamp(t, UTC).date().isoformat()
                        rows.append((key or day, day, seconds / 3600 * inst.hourly_price))
        return breakdown(window, "gcp", rows, daily)

    # -- changes ----------------------------------------------------------------------------------------
    def _begin_start(self, inst: Instance, idempotency_key: str) -> None:
        self._run("start", inst.id, idempotency_key, instance=inst.id)

    def _begin_stop(self, inst: Instance, idempotency_key: str) -> None:
        self._run("stop", inst.id, idempotency_key, instance=inst.id)

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        """Delete the instance; GCE forgets it then, so the last view is returned as terminated."""
        inst = self.get_instance(instance_id)
        self._run("delete", instance_id, idempotency_key, instance=instance_id)
        return inst.model_copy(update={"state": "terminated"})

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        """Stop, `setMachineType`, start (GCE changes the type of a stopped instance only)."""

        def change_type(key: str) -> None:
            body = compute_v1.InstancesSetMachineTypeRequest(
                machine_type=f"zones/{self._zone(instance_id)}/machineTypes/{instance_type}"
            )
            self._run(
                "set_machine_type",
                instance_id,
                key,
                instance=instance_id,
                instances_set_machine_type_request_resource=body,
            )

        return resize_by_restart(self, instance_id, instance_type, idempotency_key, change_type)

    def writes_tags(self) -> bool:
        return False

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        # GCE labels take lowercase letters, digits, '-' and '_' only, so a schedule's time zone
        # (Europe/Berlin) does not fit one: said, rather than written mangled.
        raise UnsupportedOperationError(
            "labels are not written to gcp yet (label values cannot hold a schedule's time zone)",
            provider="gcp",
        )

    # -- internals --------------------------------------------------------------------------------------
    def key_label(self, idempotency_key: str) -> tuple[str, str]:
        return IDEMPOTENCY_LABEL, _label(idempotency_key)

    def _instance(self, vm: Any) -> Instance:
        zone = vm.zone.rpartition("/")[2]
        region = zone.rpartition("-")[0]
        size = vm.machine_type.rpartition("/")[2]
        spot = vm.scheduling.provisioning_model == "SPOT"
        labels = dict(vm.labels)
        return Instance(
            id=vm.name,
            name=vm.name,
            provider="gcp",
            region=region,
            instance_type=size,
            pricing_model="spot" if spot else "on-demand",
            state=_STATUS.get(vm.status, "stopped"),
            launch_time=datetime.fromisoformat(vm.creation_timestamp).astimezone(UTC),
            tags=labels,
            replaces=labels.get(REPLACES_TAG),
            **catalog_shape(self._catalog, "gcp", size, region, "spot" if spot else "on-demand"),
        )

    def _zone(self, name: str) -> str:
        if name not in self._zone_of:
            self.list_instances()
        if name not in self._zone_of:
            raise InstanceNotFoundError(
                f"no instance named '{name}' in project {self.project}", provider="gcp", cloud_code="notFound"
            )
        return self._zone_of[name]

    def _run(self, action: str, instance_id: str, idempotency_key: str, **fields: Any) -> None:
        """Start a zonal operation in `instance_id`'s zone and wait for it (zoneOperations.wait returns when
        it is done or after about two minutes, whichever is first); a failed operation is its error, typed.
        The request's requestId comes from the key, so a retried request is one operation."""
        zone = self._zone(instance_id)
        request_type = _ACTIONS[action]
        request = request_type(
            project=self.project, zone=zone, request_id=_request_id(idempotency_key), **fields
        )
        with _translated():
            op = getattr(self._instances, f"{action}_unary")(request=request, timeout=self._timeout)
            while op.status != compute_v1.Operation.Status.DONE:
                op = self._operations.wait(project=self.project, zone=zone, operation=op.name, timeout=150)
                if op.status != compute_v1.Operation.Status.DONE:
                    self._sleep(self._poll_seconds)
        if op.error and op.error.errors:
            first = op.error.errors[0]
            raise from_cloud_code(first.code, first.message, "gcp")

    def create_like(self, original: Instance, pricing_model: PricingModel, idempotency_key: str) -> Instance:
        """An instance made as the original was: its machine type, a boot disk from the image, type and size
        of its own, its network and subnetwork (no external address), its service account and metadata;
        data disks, tags for firewall rules and instance-group membership are not copied (the service's
        own deployment joins a new machine to those)."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]
        name = f"{original.id}-{'spot' if pricing_model == 'spot' else 'od'}-{digest}"
        zone = self._zone(original.id)
        with _translated():
            source = self._instances.get(
                project=self.project, zone=zone, instance=original.id, timeout=self._timeout
            )
            boot = next(d for d in source.disks if d.boot)
            disk = self._disks.get(
                project=self.project, zone=zone, disk=boot.source.rpartition("/")[2], timeout=self._timeout
            )
        labels = {**original.tags, REPLACES_TAG: original.id, IDEMPOTENCY_LABEL: _label(idempotency_key)}
        scheduling = compute_v1.Scheduling(
            provisioning_model="SPOT" if pricing_model == "spot" else "STANDARD",
            **({"instance_termination_action": "STOP"} if pricing_model == "spot" else {}),
        )
        body = compute_v1.Instance(
            name=name,
            machine_type=f"zones/{zone}/machineTypes/{original.instance_type}",
            labels=labels,
            scheduling=scheduling,
            disks=[
                compute_v1.AttachedDisk(
                    boot=True,
                    auto_delete=True,
                    initialize_params=compute_v1.AttachedDiskInitializeParams(
                        source_image=disk.source_image,
                        disk_size_gb=disk.size_gb,
                        disk_type=f"zones/{zone}/diskTypes/{disk.type_.rpartition('/')[2]}",
                    ),
                )
            ],
            network_interfaces=[
                compute_v1.NetworkInterface(network=n.network, subnetwork=n.subnetwork)
                for n in source.network_interfaces
            ],
            service_accounts=list(source.service_accounts),
            metadata=source.metadata,
        )
        self._run("insert", original.id, idempotency_key, instance_resource=body)
        self._zone_of[name] = zone
        return self.get_instance(name)

    def _machine_series(
        self, start: datetime, end: datetime, period: int, instance_id: str | None = None
    ) -> dict[str, dict[str, dict[float, float]]]:
        """{instance: {cpu|memory|network_in|network_out: {period start: value}}}, one call a metric."""
        out: dict[str, dict[str, dict[float, float]]] = {}
        for name, metric in _METRICS.items():
            for instance, points in self._series(
                metric, _ALIGNERS[name], start, end, period, instance_id
            ).items():
                out.setdefault(instance, {})[name] = points
        return out

    def _series(
        self,
        metric: str,
        aligner: str,
        start: datetime,
        end: datetime,
        period: int,
        instance_id: str | None,
        extra: str = "",
    ) -> dict[str, dict[float, float]]:
        """{instance name (or "" for a global series): {period start: value}} of one metric."""
        conditions = [f'metric.type = "{metric}"']
        if instance_id is not None:
            if instance_id not in self._number_of:
                self.get_instance(instance_id)
            conditions.append(f'resource.labels.instance_id = "{self._number_of[instance_id]}"')
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}",
            filter=" AND ".join(conditions) + extra,
            interval=monitoring_v3.TimeInterval(start_time=start.replace(microsecond=0), end_time=end),
            aggregation=monitoring_v3.Aggregation(
                alignment_period=timedelta(seconds=period), per_series_aligner=aligner
            ),
        )
        out: dict[str, dict[float, float]] = {}
        with _translated():
            for series in self._monitoring.list_time_series(request=request, timeout=self._timeout):
                # The raw protobuf: proto-plus wraps every field access (3x the whole read, measured).
                raw = monitoring_v3.TimeSeries.pb(series)
                points = out.setdefault(raw.metric.labels.get("instance_name", ""), {})
                for point in raw.points:
                    points[float(point.interval.start_time.seconds)] = point.value.double_value
        return out

    def _quality(
        self, application: str, instance_id: str | None, start: datetime, end: datetime, period: int
    ) -> dict[str, dict[float, float]]:
        extra = f' AND metric.labels.application = "{application}"'
        return {
            name: next(
                iter(
                    self._series(
                        CUSTOM + name,
                        "ALIGN_MAX" if name == "p95_latency_ms" else "ALIGN_MEAN",
                        start,
                        end,
                        period,
                        instance_id,
                        extra,
                    ).values()
                ),
                {},
            )
            for name in ("p95_latency_ms", "error_rate")
        }


def _cost_key(inst: Instance, group_by: str | None, tag: str | None) -> str:
    """The group an instance's cost falls in ("" for by-day: the day is the key)."""
    if tag is not None:
        return inst.tags.get(tag) or "(untagged)"
    return {
        None: "gcp",
        "provider": "gcp",
        "day": "",
        "region": inst.region,
        "instance_type": inst.instance_type,
        "pricing_model": inst.pricing_model,
        "service": "compute",
        "application": inst.application or "(untagged)",
    }[group_by]


def _label(idempotency_key: str) -> str:
    """A label value for a key: labels hold up to 63 characters of [a-z0-9_-]."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _request_id(idempotency_key: str) -> str:
    """GCE's requestId (a UUID) for a key: the same key, the same request, so GCE runs it once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"optiinfra/{idempotency_key}"))
