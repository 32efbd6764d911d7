"""Azure through its SDK: Compute for VMs, Monitor for metrics and quality, Cost Management for costs.

What Azure does not tell per VM comes from elsewhere, and says so:
- Prices: the catalog's list prices (apache-libcloud's data) for the VM's size and region; a Spot VM at the
  catalog's spot price. The bill (Cost Management) is what costs are read from.
- Memory: Monitor's platform metric `Available Memory Bytes`, turned into a used share with the size's
  memory from the catalog.
- Application quality: custom metrics `p95_latency_ms` (Maximum) and `error_rate` (Average) in the namespace
  `OptiInfra/Applications`, on each VM (per target) and on the application's Application Insights component
  (`Microsoft.Insights/components/{application}` in the VMs' resource group): the convention our agents
  document for services.
- Reservations: Azure applies them to matching VMs itself, so a VM does not say it is reserved; the bill
  does. A VM whose last day Cost Management billed under a reservation is "reserved" here (read hourly).

Instances are named by their VM name; a subscription with one name in two resource groups must be narrowed
to one (`azure://SUBSCRIPTION/GROUP`). Changes are long-running operations the SDK's pollers wait for. A
spot migration creates a Spot VM as the original was made (image, disk type, administrator, a network
interface in its subnet), named after the idempotency key and tagged `replaces` and
`optiinfra-idempotency-key`, so a retry finds it instead of creating another, then deletes the original.
Retries are ResilientProvider's job: the SDK's own retry policy is off (one attempt each).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import VirtualMachine, VirtualMachineUpdate
from azure.mgmt.costmanagement import CostManagementClient
from azure.mgmt.costmanagement.models import QueryDefinition
from azure.mgmt.monitor import MonitorManagementClient

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
    InvalidInstanceTypeError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    ThrottledError,
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

IDEMPOTENCY_TAG = "optiinfra-idempotency-key"  # Azure tag names may not hold '/', so no "optiinfra:" prefix
QUALITY_NAMESPACE = "OptiInfra/Applications"
RESOURCE_MANAGER = "https://management.azure.com"
COMPUTE_API = "2024-07-01"  # Virtual Machines - Get, read as JSON for a copy
NETWORK_API = "2024-05-01"  # Network Interfaces - Get
MONITOR_API = "2024-02-01"  # Metrics - List At Subscription Scope
RESERVATIONS_READ_EVERY = timedelta(hours=1)
log = logging.getLogger(__name__)
_POWER: dict[str, InstanceState] = {
    "starting": "pending",
    "running": "running",
    "stopping": "stopping",
    "deallocating": "stopping",
    "stopped": "stopped",
    "deallocated": "stopped",
}
_COST_GROUPS = {  # our grouping → Cost Management's
    "region": ("Dimension", "ResourceLocation"),
    "pricing_model": ("Dimension", "PricingModel"),
    "instance_type": ("Dimension", "MeterSubCategory"),
    "service": ("Dimension", "ServiceName"),
    "application": ("TagKey", "application"),
}
_PRICING_MODELS = {"OnDemand": "on-demand", "Spot": "spot", "Reservation": "reserved"}
_INTERVALS = {60: "PT1M", 300: "PT5M", 900: "PT15M", 3600: "PT1H"}
# A VM's platform metrics and the aggregation each is read with.
_MACHINE_METRICS = {
    "Percentage CPU": "average",
    "Available Memory Bytes": "average",
    "Network In Total": "total",
    "Network Out Total": "total",
}


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except ClientAuthenticationError as exc:
        raise ProviderUnavailableError(
            f"Azure refused the credentials: {exc.message}", provider="azure"
        ) from exc
    except HttpResponseError as exc:
        if exc.response is not None:
            exc.response.close()  # type: ignore[attr-defined]  # a refusal's connection goes back to the pool (else it stays open)
        raise _typed(exc) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise ProviderUnavailableError(f"cannot reach Azure: {exc.message}", provider="azure") from exc


def _typed(exc: HttpResponseError) -> ProviderError:
    """ARM's error code (of the call, or of the long-running operation that failed) as our typed error."""
    error = exc.error
    code = (error.code if error is not None else None) or ""
    message = (error.message if error is not None else None) or str(exc.message)
    target = (error.target if error is not None else None) or ""
    if code == "InvalidParameter" and "vmSize" in target:
        return InvalidInstanceTypeError(message, provider="azure", cloud_code=code)
    if code not in CLOUD_CODES:
        status = exc.status_code or 0
        if status == 429:
            return ThrottledError(message, provider="azure", cloud_code=code or "TooManyRequests")
        if status >= 500:
            return ProviderUnavailableError(message, provider="azure", cloud_code=code or str(status))
    return from_cloud_code(code, message, "azure")


class AzureProvider(MachinesOnly, ForgettingCloud):
    """A CloudProvider over one Azure subscription, or one resource group of it."""

    name = "azure"
    account = "an Azure subscription"

    def __init__(
        self,
        subscription_id: str,
        resource_group: str | None = None,
        *,
        credential: TokenCredential,
        base_url: str = RESOURCE_MANAGER,
        connection_verify: bool | str = True,
        catalog: Catalog | None = None,
        timeout: float = 10.0,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep, poll_seconds=poll_seconds, catalog=catalog)
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        options: dict[str, Any] = {
            "base_url": base_url,
            "retry_total": 0,
            "connection_timeout": timeout,
            "read_timeout": timeout,
            "connection_verify": connection_verify,
            "polling_interval": poll_seconds,  # used only when an answer has no Retry-After
            "raw_response_hook": self._observe,
        }
        self._compute = ComputeManagementClient(credential, subscription_id, **options)
        self._monitor = MonitorManagementClient(credential, subscription_id, **options)
        self._costs = CostManagementClient(credential, **options)
        self._groups: dict[str, str] = {}  # VM name → its resource group, from the latest listing
        self._ambiguous: set[str] = set()  # VM names found in more than one resource group
        self._coverage: tuple[datetime, frozenset[str]] | None = None  # (read at, VMs a reservation paid for)

    def close(self) -> None:
        for client in (self._compute, self._monitor, self._costs):
            client.close()

    def _observe(self, response: PipelineResponse[Any, Any]) -> None:
        self.server_clock.observe(response.http_response.headers.get("Date"))

    # -- reads ------------------------------------------------------------------------------------------
    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        f = filters or InstanceFilter()
        if f.provider not in (None, "azure"):
            return []
        vms = self._compute.virtual_machines
        with _translated():
            if self.resource_group:
                raw = list(vms.list(self.resource_group, status_only="true"))
            else:
                raw = list(vms.list_all(status_only="true"))
        self._groups, self._ambiguous = {}, set()
        for vm in raw:
            name, group = str(vm.name), _group_of(str(vm.id))
            if self._groups.setdefault(name, group) != group:
                self._ambiguous.add(name)
        return matching([self._instance(vm) for vm in raw], f)

    def get_instance(self, instance_id: str) -> Instance:
        group = self._group(instance_id)
        with _translated():
            vm = self._compute.virtual_machines.get(group, instance_id, expand="instanceView")
        return self._instance(vm)

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        check_window(hours, period, "azure")
        inst = self.get_instance(instance_id)
        series = self._vm_metrics(inst, hours, period)
        times = np.asarray(sorted(series["Percentage CPU"]), np.float64)

        def column(name: str) -> np.ndarray[Any, np.dtype[np.float32]]:
            return np.asarray([series[name].get(t, math.nan) for t in times], np.float32)

        memory = 100 * (1 - column("Available Memory Bytes") / np.float32(inst.memory_gb * 2**30))
        network = (column("Network In Total") + column("Network Out Total")) * np.float32(8 / period / 1e6)
        return MetricSeries(instance_id, period, times, column("Percentage CPU"), memory, network)

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        """One Metrics call per region for every VM in it (List At Subscription Scope, split by resource),
        not one per VM: ARM allows a principal some thousands of reads an hour."""
        running = self.list_instances(InstanceFilter(state="running")) if 0 < hours <= 2160 else []
        end = self.now()
        series: dict[str, dict[str, dict[float, float]]] = {}  # VM name (lower case) → metric → points
        for region in sorted({i.region for i in running}):
            query = {
                "api-version": MONITOR_API,
                "region": region,
                "timespan": _timespan(end - timedelta(hours=hours), end),
                "interval": "PT1H",
                "metricnames": ",".join(_MACHINE_METRICS),
                "aggregation": "Average,Total",
                "top": str(len(running)),
                "$filter": "Microsoft.ResourceId eq '*'",
                "metricnamespace": "Microsoft.Compute/virtualMachines",
            }
            # Metrics - List At Subscription Scope through the same ARM pipeline (auth, base URL, hooks), read
            # as JSON: the monitor SDK's model deserialiser spends ~60 µs a point, 90 % of a 14-day read of a
            # few hundred VMs. (Its client has no public send_request; Compute's pipeline is the same.)
            request = HttpRequest(
                "GET",
                f"/subscriptions/{self.subscription_id}/providers/Microsoft.Insights/metrics",
                params=query,
            )
            with _translated():
                answer = self._compute.send_request(request)
                answer.raise_for_status()
            for name, points in _points_by_resource(answer.json(), _MACHINE_METRICS).items():
                series.setdefault(name, {}).update(points)

        def hourly(inst: Instance) -> dict[str, list[float]]:
            points = series.get(inst.id.lower(), {})
            times = sorted(points.get("Percentage CPU", {}))
            size = inst.memory_gb * 2**30
            inbound, outbound = points.get("Network In Total", {}), points.get("Network Out Total", {})
            traffic = [(inbound.get(t, 0.0) + outbound.get(t, 0.0)) * 8 / 3600 / 1e6 for t in times]
            memory = [points.get("Available Memory Bytes", {}).get(t, math.nan) for t in times]
            return {
                "cpu": [points["Percentage CPU"][t] for t in times],
                "memory": [100 * (1 - m / size) if size else math.nan for m in memory],
                "network": traffic,
            }

        return summarise("azure", hours, percentiles, running, hourly)

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        check_minutes(minutes, "azure")
        members = self._members(application)
        end = self.now()
        component = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self._group(members[0].id)}"
            f"/providers/Microsoft.Insights/components/{application}"
        )
        recent = self._quality_series(component, end - timedelta(minutes=minutes), end, 300)
        baseline = self._quality_series(component, end - timedelta(days=7), end, 3600)
        return quality_report(application, members, recent, baseline, "azure", QUALITY_NAMESPACE)

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        """Per VM, from the application's custom metrics on each VM (what an agent on each host publishes)."""
        check_minutes(minutes, "azure", step_seconds)
        members = self._members(application)
        end = until or self.now()
        start = end - timedelta(seconds=max(1, int(minutes * 60 // step_seconds)) * step_seconds)
        rows = [self._quality_series(self._resource(m.id), start, end, step_seconds) for m in members]
        return target_table(application, members, end, minutes, step_seconds, rows)

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        window = bill_window(
            "azure", group_by, days, tuple(_COST_GROUPS), self.now() if until is None else until
        )
        f = billable(filters, "azure")
        rows: list[tuple[str, str, float]] = []
        if f.provider in (None, "azure"):  # this subscription's bill holds no other cloud
            grouping = ("TagKey", window.tag) if window.tag else _COST_GROUPS.get(group_by or "")
            rows = self._cost_rows(window.start, window.end, f, grouping, daily or group_by == "day")
        return breakdown(window, "azure", rows, daily)

    # -- changes ----------------------------------------------------------------------------------------
    def _begin_start(self, inst: Instance, idempotency_key: str) -> None:
        with _translated():
            self._compute.virtual_machines.begin_start(self._group(inst.id), inst.id).result()

    def _begin_stop(self, inst: Instance, idempotency_key: str) -> None:
        """Deallocate: a stopped-but-allocated Azure VM is still billed, so stopping means deallocating."""
        with _translated():
            self._compute.virtual_machines.begin_deallocate(self._group(inst.id), inst.id).result()

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        """Delete the VM; Azure forgets it then, so the last view is returned as terminated."""
        inst = self.get_instance(instance_id)
        with _translated():
            self._compute.virtual_machines.begin_delete(self._group(instance_id), instance_id).result()
        return inst.model_copy(update={"state": "terminated"})

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        """Deallocate, change the size, start (the simulator, like a full cluster, resizes only then)."""

        def change_size(key: str) -> None:
            body = VirtualMachineUpdate({"properties": {"hardwareProfile": {"vmSize": instance_type}}})
            with _translated():
                poller = self._compute.virtual_machines.begin_update(
                    self._group(instance_id), instance_id, body
                )
                poller.result()

        return resize_by_restart(self, instance_id, instance_type, idempotency_key, change_size)

    def writes_tags(self) -> bool:
        return True

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        """A PATCH of the VM's whole tag set (ARM replaces it): the tags it has, these set, those removed.
        Idempotent by its nature: the same call gives the same set."""
        merged = {k: v for k, v in self.get_instance(instance_id).tags.items() if k not in remove}
        merged.update(tags)
        with _translated():
            self._compute.virtual_machines.begin_update(
                self._group(instance_id), instance_id, VirtualMachineUpdate(tags=merged)
            ).result()
        return self.get_instance(instance_id)

    # -- internals --------------------------------------------------------------------------------------
    def key_label(self, idempotency_key: str) -> tuple[str, str]:
        return IDEMPOTENCY_TAG, _tag_value(idempotency_key)

    def _instance(self, vm: Any) -> Instance:
        properties = vm.properties
        statuses = [
            s.code or "" for s in (properties.instance_view.statuses if properties.instance_view else [])
        ]
        power = next((c.split("/", 1)[1] for c in statuses if c.startswith("PowerState/")), "running")
        provisioning = (properties.provisioning_state or "").lower()
        state: InstanceState = "shutting-down" if provisioning == "deleting" else _POWER.get(power, "stopped")
        spot = _text(properties.priority) == "Spot"
        pricing: PricingModel = (
            "spot" if spot else "reserved" if str(vm.name).lower() in self._reserved() else "on-demand"
        )
        tags = dict(vm.tags or {})
        region = str(vm.location)
        size = _text(properties.hardware_profile.vm_size)
        return Instance(
            id=str(vm.name),
            name=str(vm.name),
            provider="azure",
            region=region,
            instance_type=size,
            pricing_model=pricing,
            state=state,
            launch_time=(properties.time_created or datetime.fromtimestamp(0, UTC)).astimezone(UTC),
            tags=tags,
            replaces=tags.get(REPLACES_TAG),
            **catalog_shape(self._catalog, "azure", size, region, pricing),
        )

    def _reserved(self) -> frozenset[str]:
        """The VMs a reservation paid for over the last day. Azure applies reservations to matching VMs on its
        own, so a VM does not say it is reserved; the bill does (Cost Management's PricingModel per
        resource). Read once an hour of the cloud's time; without Cost Management's permission, none (and a
        warning): such VMs then look on-demand, and spot or reservation advice for them overstates."""
        now = self._clock()
        if self._coverage is not None and now - self._coverage[0] < RESERVATIONS_READ_EVERY:
            return self._coverage[1]
        scope = f"/subscriptions/{self.subscription_id}"
        if self.resource_group:
            scope += f"/resourceGroups/{self.resource_group}"
        query = {
            "type": "ActualCost",
            "timeframe": "Custom",
            "timePeriod": {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()},
            "dataset": {
                "granularity": "None",
                "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
                "grouping": [
                    {"type": "Dimension", "name": "ResourceId"},
                    {"type": "Dimension", "name": "PricingModel"},
                ],
            },
        }
        try:
            with _translated():
                result = self._costs.query.usage(scope, QueryDefinition(query))
        except ProviderError as exc:
            log.warning(
                "reservations unknown (Cost Management: %s); reserved VMs look on-demand", exc.message
            )
            self._coverage = (now, frozenset())
            return self._coverage[1]
        answer = result.properties if result is not None else None
        names = [c.name for c in (answer.columns or [])] if answer is not None else []
        reserved = set()
        for row in (answer.rows or []) if answer is not None else []:
            values = dict(zip(names, row, strict=True))
            if values.get("PricingModel") == "Reservation" and float(values.get("Cost", 0)) > 0:
                reserved.add(str(values["ResourceId"]).rpartition("/")[2].lower())  # ids come lower-cased
        self._coverage = (now, frozenset(reserved))
        return self._coverage[1]

    def _group(self, name: str) -> str:
        if self.resource_group:
            return self.resource_group
        if name not in self._groups:
            self.list_instances()
        if name in self._ambiguous:
            raise InvalidRequestError(
                f"more than one resource group holds a VM named '{name}': name the group in the address "
                f"(azure://{self.subscription_id}/GROUP)",
                provider="azure",
            )
        if name not in self._groups:
            raise InstanceNotFoundError(
                f"no VM named '{name}' in subscription {self.subscription_id}",
                provider="azure",
                cloud_code="ResourceNotFound",
            )
        return self._groups[name]

    def _resource(self, name: str) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self._group(name)}"
            f"/providers/Microsoft.Compute/virtualMachines/{name}"
        )

    def create_like(self, original: Instance, pricing_model: PricingModel, idempotency_key: str) -> Instance:
        """A VM made as the original was: its size, image, disk type, administrator and SSH keys, and a
        network interface in its subnet (created with the VM, deleted with it); data disks, extensions and
        load-balancer pools are not copied (the service's own deployment joins a new machine to those)."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]
        name = f"{original.id}-{'spot' if pricing_model == 'spot' else 'od'}-{digest}"
        group = self._group(original.id)
        with _translated():
            source = self._arm_get(self._resource(original.id), COMPUTE_API)["properties"]
            nic = self._arm_get(source["networkProfile"]["networkInterfaces"][0]["id"], NETWORK_API)
        subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
        storage, os_profile = source["storageProfile"], source["osProfile"]
        properties: dict[str, Any] = {
            "hardwareProfile": {"vmSize": original.instance_type},
            "priority": "Spot" if pricing_model == "spot" else "Regular",
            "storageProfile": {
                "imageReference": storage["imageReference"],
                "osDisk": {
                    "createOption": "FromImage",
                    "deleteOption": "Delete",
                    "managedDisk": storage["osDisk"].get("managedDisk", {}),
                },
            },
            "osProfile": {
                "computerName": name[:64],
                "adminUsername": os_profile["adminUsername"],
                **{k: v for k, v in os_profile.items() if k == "linuxConfiguration"},
            },
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [
                    {
                        "name": f"{name}-nic",
                        "properties": {
                            "primary": True,
                            "deleteOption": "Delete",
                            "ipConfigurations": [
                                {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}
                            ],
                        },
                    }
                ],
            },
        }
        if pricing_model == "spot":
            properties |= {"evictionPolicy": "Deallocate", "billingProfile": {"maxPrice": -1}}
        tags = {**original.tags, REPLACES_TAG: original.id, IDEMPOTENCY_TAG: _tag_value(idempotency_key)}
        body = VirtualMachine({"location": original.region, "tags": tags, "properties": properties})
        with _translated():
            self._compute.virtual_machines.begin_create_or_update(group, name, body).result()
        self._groups[name] = group
        return self.get_instance(name)

    def _arm_get(self, resource_id: str, api_version: str) -> dict[str, Any]:
        """A resource as ARM's JSON, through the same authenticated pipeline: for the parts of a VM a copy
        needs as they are, and for a network interface (Network's API, which is only read here)."""
        answer = self._compute.send_request(HttpRequest("GET", f"{resource_id}?api-version={api_version}"))
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def _vm_metrics(self, inst: Instance, hours: float, period: int) -> dict[str, dict[float, float]]:
        end = self.now()
        with _translated():
            result = self._monitor.metrics.list(
                self._resource(inst.id),
                timespan=_timespan(end - timedelta(hours=hours), end),
                interval=_INTERVALS[period],
                metricnames=",".join(_MACHINE_METRICS),
                aggregation="Average,Total",
            )
        return _points(result, _MACHINE_METRICS)

    def _quality_series(
        self, resource: str, start: datetime, end: datetime, period: int
    ) -> dict[str, dict[float, float]]:
        with _translated():
            result = self._monitor.metrics.list(
                resource,
                timespan=_timespan(start, end),
                interval=_INTERVALS[period],
                metricnames="p95_latency_ms,error_rate",
                aggregation="Maximum,Average",
                metricnamespace=QUALITY_NAMESPACE,
            )
        return _points(result, {"p95_latency_ms": "maximum", "error_rate": "average"})

    def _cost_rows(
        self, start: datetime, end: datetime, f: InstanceFilter, grouping: tuple[str, str] | None, daily: bool
    ) -> list[tuple[str, str, float]]:
        """(group, ISO day, amount) rows of a Cost Management query (day '' unless `daily`)."""
        scope = f"/subscriptions/{self.subscription_id}"
        if self.resource_group:
            scope += f"/resourceGroups/{self.resource_group}"
        tags = f.tags | ({"application": f.application} if f.application else {})
        parts: list[dict[str, Any]] = [
            {"tags": {"name": k, "operator": "In", "values": [v]}} for k, v in sorted(tags.items())
        ]
        if f.region:
            parts.append({"dimensions": {"name": "ResourceLocation", "operator": "In", "values": [f.region]}})
        dataset: dict[str, Any] = {
            "granularity": "Daily" if daily else "None",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
        }
        if grouping:
            dataset["grouping"] = [{"type": grouping[0], "name": grouping[1]}]
        if parts:
            dataset["filter"] = parts[0] if len(parts) == 1 else {"and": parts}
        query = {
            "type": "ActualCost",
            "timeframe": "Custom",
            "timePeriod": {"from": start.isoformat(), "to": end.isoformat()},
            "dataset": dataset,
        }
        with _translated():
            result = self._costs.query.usage(scope, QueryDefinition(query))
        answer = result.properties if result is not None else None
        if answer is None:  # Cost Management answers 204 while a new scope's data is being prepared
            return []
        names = [c.name for c in answer.columns or []]
        rows = []
        for row in answer.rows or []:
            values = dict(zip(names, row, strict=True))
            day = str(int(values["UsageDate"])) if "UsageDate" in values else ""
            iso = f"{day[:4]}-{day[4:6]}-{day[6:]}" if day else ""
            key = str(values.get(grouping[1], "")) if grouping else ""
            if grouping and grouping[1] == "PricingModel":
                key = _PRICING_MODELS.get(key, key)
            rows.append((key or "(untagged)", iso, float(values["Cost"])))
        return rows


def _points(result: Any, aggregation: dict[str, str]) -> dict[str, dict[float, float]]:
    """{metric name: {unix time: value}} from a Metrics - List answer."""
    out: dict[str, dict[float, float]] = {name: {} for name in aggregation}
    for metric in result.value:
        name = metric.name.value
        for series in metric.timeseries or []:
            for point in series.data or []:
                value = getattr(point, aggregation[name], None)
                if value is not None:
                    out[name][point.time_stamp.timestamp()] = float(value)
    return out


def _points_by_resource(
    answer: dict[str, Any], aggregation: dict[str, str]
) -> dict[str, dict[str, dict[float, float]]]:
    """{VM name, lower case: {metric name: {unix time: value}}} from a Metrics answer (JSON) split by
    Microsoft.ResourceId."""
    out: dict[str, dict[str, dict[float, float]]] = {}
    for metric in answer.get("value", []):
        name = metric["name"]["value"]
        for series in metric.get("timeseries", []):
            resource = next(
                (
                    str(m["value"])
                    for m in series.get("metadatavalues", [])
                    if str(m["name"]["value"]).lower() == "microsoft.resourceid"
                ),
                "",
            )
            points = out.setdefault(resource.rpartition("/")[2].lower(), {}).setdefault(name, {})
            for point in series.get("data", []):
                value = point.get(aggregation[name])
                if value is not None:
                    points[datetime.fromisoformat(point["timeStamp"].replace("Z", "+00:00")).timestamp()] = (
                        value
                    )
    return out


def _text(value: object) -> str:
    """A string the SDK may hand over as one of its enums (a VM size, a priority)."""
    return str(getattr(value, "value", value))


def _timespan(start: datetime, end: datetime) -> str:
    """Monitor's `start/end`, to the second (its grain), so a query lines up with the cloud's periods."""
    moments = (t.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z" for t in (start, end))
    return "/".join(moments)


def _group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else ""


def _tag_value(idempotency_key: str) -> str:
    """Azure tag values hold up to 256 characters: a longer key is kept by its digest."""
    return (
        idempotency_key
        if len(idempotency_key) <= 256
        else hashlib.sha256(idempotency_key.encode()).hexdigest()
    )
