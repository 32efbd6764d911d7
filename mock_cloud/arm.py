"""Azure Resource Manager's dialect: the simulator's Azure machines as the Azure SDK for Python reads them.

Written from the public REST references, for the operations `azure-mgmt-compute`, `azure-mgmt-monitor` and
`azure-mgmt-costmanagement` call (any `api-version` of the form YYYY-MM-DD is accepted; the shapes follow):
- Network, Network Interfaces - Get 2024-05-01 (a VM's subnet, which a replacement joins).
- Compute, Virtual Machines 2024-07-01: List All (`statusOnly`, `nextLink` paging), List, Get (`$expand=
  instanceView`), Instance View, Create Or Update, Update, Delete, Start, Deallocate; long-running
  operations answer 202/201 with `Azure-AsyncOperation` (and `Location`), polled at
  `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}`.
- Monitor, Metrics - List 2024-02-01: `/{resourceUri}/providers/Microsoft.Insights/metrics` with
  `timespan`, `interval`, `metricnames`, `aggregation`, `metricnamespace`; and List At Subscription Scope
  (a region's VMs in one call, split by `$filter=Microsoft.ResourceId eq '*'`, `top` series a metric).
- Cost Management, Query - Usage 2025-03-01: `POST /{scope}/providers/Microsoft.CostManagement/query`.
- Errors are ARM's body `{"error": {"code", "message", "target"}}`; throttling is 429 with `Retry-After`.

How the simulator's fleet looks here: each Azure machine is a VM named by its simulator id, in resource
group `rg-{team}`; terminated machines are deleted (404), as in Azure. The simulator cannot boot an image,
so a new VM must replace one (tag `replaces`) and be made as Azure would need it made: the original's image,
an administrator, and a network interface in the original's subnet (refused otherwise, as Azure refuses a VM
without them). It takes over that machine's work, and the simulator retires the original once the new one
runs, as for every migration. Capacity shortages fail the operation
(`AllocationFailed`), as Azure reports them. With a paused clock, polling an unfinished operation moves the
clock to its end, as though the poller had waited its `Retry-After`.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import Body, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mock_cloud.errors import (
    IncorrectInstanceState,
    InsufficientInstanceCapacity,
    SimulatorError,
)
from mock_cloud.instances import TRANSITIONAL, State
from mock_cloud.simulator import CloudSimulator
from mock_cloud.views import InstanceView

APPLICATION_NAMESPACE = "OptiInfra/Applications"  # custom metrics: p95_latency_ms, error_rate
VM_TYPE = "Microsoft.Compute/virtualMachines"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
# Every simulated VM runs the same image, as a fleet built from one golden image does.
IMAGE = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "latest",
}
ADMIN = "azureuser"
PAGE = 50  # VMs a listing page holds before its nextLink
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_INTERVALS = {"PT1M": 60, "PT5M": 300, "PT15M": 900, "PT1H": 3600}
_ERRORS = {  # the simulator's refusals as ARM's codes and statuses
    "InvalidInstanceID.NotFound": (404, "ResourceNotFound"),
    "ApplicationNotFound": (404, "ResourceNotFound"),
    "IncorrectInstanceState": (409, "OperationNotAllowed"),
    "InvalidInstanceType": (400, "InvalidParameter"),
    "InvalidParameterValue": (400, "InvalidParameter"),
    "IdempotentParameterMismatch": (409, "Conflict"),
    "RequestLimitExceeded": (429, "TooManyRequests"),
    "InsufficientInstanceCapacity": (409, "AllocationFailed"),
    "ServiceUnavailable": (503, "ServiceUnavailable"),
}
_POWER = {
    State.PENDING: "starting",
    State.RUNNING: "running",
    State.STOPPING: "deallocating",
    State.STOPPED: "deallocated",
    State.SHUTTING_DOWN: "stopping",
}
_DONE = {
    "start": State.RUNNING,
    "deallocate": State.STOPPED,
    "delete": State.TERMINATED,
    "create": State.RUNNING,
    "update": None,
}


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.target = status, code, message, target


@dataclass
class _Operation:
    kind: str
    vm: str
    location: str
    started: float
    error: tuple[str, str] | None = None  # (code, message) when it failed


def resource_group(vm: InstanceView) -> str:
    return f"rg-{vm.tags.get('team', 'default')}"


def create_arm_app(simulator: Callable[[], CloudSimulator]) -> FastAPI:  # noqa: C901 - routes share state
    """The ARM paths under `/subscriptions`; `simulator()` is the simulator being served (it may be reset)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    operations: dict[str, _Operation] = {}
    serial = itertools.count(1)

    @app.exception_handler(ArmError)
    async def arm_error(_: Request, exc: ArmError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.target)

    @app.exception_handler(SimulatorError)
    async def simulator_error(_: Request, exc: SimulatorError) -> JSONResponse:
        status, code = _ERRORS.get(exc.code, (400, "BadRequest"))
        return _error(status, code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        )
        return _error(400, "InvalidParameter", f"The request is invalid: {where}")

    @app.middleware("http")
    async def api_version(request: Request, call_next: Any) -> Response:
        version = request.query_params.get("api-version")
        if version is None:
            return _error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not _API_VERSION.match(version):
            return _error(400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid.")
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return _error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or not a bearer token.",
            )
        response: Response = await call_next(request)
        return response

    def find(sub: str, group: str, name: str) -> InstanceView:
        sim = simulator()
        vm = sim.get_instance(name)
        if vm.provider != "azure" or vm.state is State.TERMINATED or resource_group(vm) != group:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/virtualMachines/{name}' under resource group "
                f"'{group}' was not found.",
            )
        return vm

    def operation(
        request: Request, sub: str, kind: str, vm: InstanceView, error: tuple[str, str] | None
    ) -> str:
        op = str(uuid.uuid5(uuid.NAMESPACE_URL, f"arm-operation/{next(serial)}"))
        operations[op] = _Operation(kind, vm.id, vm.region, simulator().now(), error)
        base = f"{request.url.scheme}://{request.url.netloc}"
        version = request.query_params["api-version"]
        return f"{base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{vm.region}/operations/{op}?api-version={version}"  # noqa: E501

    def accepted(
        request: Request,
        sub: str,
        kind: str,
        vm: InstanceView,
        error: tuple[str, str] | None = None,
        body: object = None,
        status: int = 202,
    ) -> Response:
        url = operation(request, sub, kind, vm, error)
        headers = {"Azure-AsyncOperation": url, "Location": url, "Retry-After": _retry_after(simulator(), vm)}
        if body is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    def change(
        request: Request, sub: str, kind: str, vm: InstanceView, act: Callable[[], object]
    ) -> Response:
        """Run a change; a capacity shortage is accepted, then its operation fails, as Azure reports it."""
        try:
            act()
        except InsufficientInstanceCapacity as exc:
            return accepted(request, sub, kind, vm, ("AllocationFailed", exc.message))
        return accepted(request, sub, kind, simulator().get_instance(vm.id))

    # -- Virtual Machines -------------------------------------------------------------------------------
    @app.get("/{sub}/providers/Microsoft.Compute/virtualMachines")
    async def list_all(
        request: Request,
        sub: str,
        statusOnly: str | None = None,  # noqa: N803
        skiptoken: Annotated[int, Query(alias="$skiptoken", ge=0)] = 0,
    ) -> object:
        vms = [v for v in simulator().list_instances(provider="azure") if v.state is not State.TERMINATED]
        return _page(request, sub, vms, skiptoken, statusOnly == "true")

    @app.get("/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines")
    async def list_group(
        request: Request,
        sub: str,
        group: str,
        statusOnly: str | None = None,  # noqa: N803
        skiptoken: Annotated[int, Query(alias="$skiptoken", ge=0)] = 0,
    ) -> object:
        everyone = simulator().list_instances(provider="azure")
        if not any(resource_group(v) == group for v in everyone):
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
        vms = [v for v in everyone if resource_group(v) == group and v.state is not State.TERMINATED]
        return _page(request, sub, vms, skiptoken, statusOnly == "true")

    vm_path = "/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"

    @app.get(vm_path)
    async def get_vm(
        sub: str, group: str, name: str, expand: Annotated[str | None, Query(alias="$expand")] = None
    ) -> object:
        return vm_json(sub, find(sub, group, name), instance_view=expand == "instanceView")

    @app.get(vm_path + "/instanceView")
    async def instance_view(sub: str, group: str, name: str) -> object:
        return _instance_view(find(sub, group, name))

    @app.post(vm_path + "/start")
    async def start(request: Request, sub: str, group: str, name: str) -> Response:
        vm = find(sub, group, name)
        return change(request, sub, "start", vm, lambda: simulator().start(vm.id))

    @app.post(vm_path + "/deallocate")
    async def deallocate(request: Request, sub: str, group: str, name: str) -> Response:
        vm = find(sub, group, name)
        return change(request, sub, "deallocate", vm, lambda: simulator().stop(vm.id))

    @app.delete(vm_path)
    async def delete(request: Request, sub: str, group: str, name: str) -> Response:
        try:
            vm = find(sub, group, name)
        except ArmError:
            return Response(status_code=204)  # deleting what is gone succeeds, as ARM's DELETE does
        return change(request, sub, "delete", vm, lambda: simulator().terminate(vm.id))

    @app.patch(vm_path)
    async def update(
        request: Request, sub: str, group: str, name: str, body: Annotated[dict[str, Any], Body()]
    ) -> Response:
        vm = find(sub, group, name)
        if "tags" in body:  # a PATCH's tags replace the VM's whole set, as ARM's do
            tags = {str(k): str(v) for k, v in (body["tags"] or {}).items()}
            vm = simulator().tag(vm.id, tags, [k for k in vm.tags if k not in tags])
        return resize(request, sub, vm, body)

    @app.put(vm_path)
    async def create_or_update(
        request: Request, sub: str, group: str, name: str, body: Annotated[dict[str, Any], Body()]
    ) -> Response:
        sim = simulator()
        try:
            existing = find(sub, group, name)
        except (ArmError, SimulatorError):
            existing = None
        if existing is not None:
            return resize(request, sub, existing, body)
        tags = {str(k): str(v) for k, v in (body.get("tags") or {}).items()}
        replaced = tags.get("replaces")
        if not replaced:
            raise ArmError(
                400,
                "InvalidParameter",
                "The simulator creates only replacements of existing VMs: "
                "tag the new VM 'replaces' with the name of the VM it replaces.",
                "tags.replaces",
            )
        original = find(sub, group, replaced)
        properties = body.get("properties") or {}
        size = (properties.get("hardwareProfile") or {}).get("vmSize", original.instance_type)
        if size != original.instance_type:
            raise ArmError(
                400,
                "InvalidParameter",
                "A replacement keeps the size of the VM it replaces; resize it afterwards.",
                "hardwareProfile.vmSize",
            )
        _check_like(sub, original, properties)
        pricing = "spot" if properties.get("priority") == "Spot" else "on-demand"
        try:
            migration = sim.migrate(original.id, pricing, replacement_id=name, tags=tags)
        except InsufficientInstanceCapacity as exc:
            # Accepted as Azure accepts it (201, "Creating"); its operation then fails.
            failing = vm_json(sub, original) | {"name": name, "tags": tags}
            failing["id"] = failing["id"].rpartition("/")[0] + f"/{name}"
            failing["properties"] |= {
                "provisioningState": "Creating",
                "priority": properties.get("priority", "Regular"),
            }
            return accepted(request, sub, "create", original, ("AllocationFailed", exc.message), failing, 201)
        except IncorrectInstanceState as exc:
            raise ArmError(409, "OperationNotAllowed", exc.message) from exc
        created = migration.replacement
        return accepted(request, sub, "create", created, body=vm_json(sub, created), status=201)

    def resize(request: Request, sub: str, vm: InstanceView, body: dict[str, Any]) -> Response:
        properties = body.get("properties") or {}
        size = (properties.get("hardwareProfile") or {}).get("vmSize")
        if size is None or size == vm.instance_type:
            return accepted(request, sub, "update", vm, body=vm_json(sub, vm), status=200)
        if vm.state is not State.STOPPED:
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"The VM '{vm.id}' must be deallocated to change its size to {size} in the "
                f"simulator (it is {_POWER.get(vm.state, vm.state)}).",
            )
        try:
            simulator().resize(vm.id, size)
        except InsufficientInstanceCapacity as exc:
            return accepted(request, sub, "update", vm, ("AllocationFailed", exc.message))
        except SimulatorError as exc:
            if exc.code == "InvalidInstanceType":
                raise ArmError(
                    400,
                    "InvalidParameter",
                    f"The value {size} provided for the VM size is not valid: {exc.message}",
                    "hardwareProfile.vmSize",
                ) from exc
            raise
        resized = simulator().get_instance(vm.id)
        return accepted(request, sub, "update", resized, body=vm_json(sub, resized), status=200)

    @app.get("/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op}")
    async def operation_status(sub: str, location: str, op: str, response: Response) -> object:
        found = operations.get(op)
        if found is None:
            raise ArmError(404, "NotFound", f"The operation '{op}' was not found.")
        sim = simulator()
        status = _status(sim, found)
        if status == "InProgress" and sim.clock.speed == 0:
            sim.wait_until_stable(found.vm)  # a paused clock: move it to when the operation finishes
            status = _status(sim, found)
        body: dict[str, Any] = {"name": op, "status": status, "startTime": _iso(found.started)}
        if status == "InProgress":
            response.headers["Retry-After"] = _retry_after(sim, sim.get_instance(found.vm))
        else:
            body["endTime"] = _iso(sim.now())
        if found.error is not None:
            body["error"] = {"code": found.error[0], "message": found.error[1]}
        return body

    # -- Network (the one read a replacement needs: a VM's network interface, for its subnet) -----------
    @app.get("/{sub}/resourceGroups/{group}/providers/Microsoft.Network/networkInterfaces/{nic}")
    async def network_interface(sub: str, group: str, nic: str) -> object:
        vm = find(sub, group, nic.removesuffix("-nic"))
        return {
            "id": f"/subscriptions/{sub}/resourceGroups/{group}/providers/{NIC_TYPE}/{nic}",
            "name": nic,
            "location": vm.region,
            "properties": {
                "primary": True,
                "ipConfigurations": [
                    {
                        "name": "ipconfig1",
                        "properties": {
                            "subnet": {"id": subnet_of(sub, vm)},
                            "privateIPAllocationMethod": "Dynamic",
                        },
                    }
                ],
                "virtualMachine": {"id": vm_resource_id(sub, vm)},
            },
        }

    # -- Monitor ----------------------------------------------------------------------------------------
    @app.get(vm_path + "/providers/Microsoft.Insights/metrics")
    async def vm_metrics(
        sub: str,
        group: str,
        name: str,
        metricnames: str,
        timespan: str | None = None,
        interval: str = "PT1H",
        aggregation: str | None = None,
        metricnamespace: str | None = None,
    ) -> object:
        vm = find(sub, group, name)
        sim = simulator()
        start, end, step = _window(sim, timespan, interval)
        names = _names(metricnames)
        if metricnamespace == APPLICATION_NAMESPACE:
            quality = sim.target_quality(vm.application, (end - start) / 60, step, end)
            if vm.id in quality.instance_ids:
                row = quality.instance_ids.index(vm.id)
                latency, errors = quality.p95_latency_ms[row], quality.error_rate[row]
            else:
                latency = errors = np.full(len(quality.timestamps), np.nan)  # it served none of this window
            series = _quality_series(quality.timestamps - step, latency, errors)
        else:
            series = _machine_series(sim, vm, start, step)
        return _metrics(vm_resource_id(sub, vm), vm.region, names, series, start, end, interval, step)

    @app.get("/{sub}/providers/Microsoft.Insights/metrics")
    async def subscription_metrics(
        sub: str,
        region: str,
        metricnames: str,
        timespan: str | None = None,
        interval: str = "PT1H",
        aggregation: str | None = None,
        top: int = 10,
        filter: Annotated[str | None, Query(alias="$filter")] = None,  # noqa: A002 - the API's name
        metricnamespace: str | None = None,
    ) -> object:
        """Metrics - List At Subscription Scope: every VM of a region in one call, a series per VM (split
        by the `Microsoft.ResourceId` dimension), at most `top` series a metric."""
        split = "microsoft.resourceid eq '*'" in (filter or "").lower()
        if (metricnamespace or "").lower() != VM_TYPE.lower() or not split:
            raise ArmError(
                400,
                "BadRequest",
                "The simulator answers subscription-scope metrics for "
                f"metricnamespace={VM_TYPE} split by $filter=Microsoft.ResourceId eq '*'.",
            )
        sim = simulator()
        start, end, step = _window(sim, timespan, interval)
        names = _names(metricnames)
        vms = [
            v for v in sim.list_instances(provider="azure", region=region) if v.state is not State.TERMINATED
        ]
        per_vm = [(vm, _machine_series(sim, vm, start, step)) for vm in vms[:top]]
        value = []
        for name in names:
            if name not in MACHINE_METRICS:
                raise ArmError(
                    400,
                    "BadRequest",
                    f"Failed to find metric configuration for provider and "
                    f"resource: metric '{name}' (known: {', '.join(MACHINE_METRICS)}).",
                )
            timeseries = []
            for vm, series in per_vm:
                resource = vm_resource_id(sub, vm)
                _, how, times, values = series[name]
                timeseries.append(
                    {
                        "metadatavalues": [
                            {
                                "name": {
                                    "value": "Microsoft.ResourceId",
                                    "localizedValue": "Microsoft.ResourceId",
                                },
                                "value": resource.lower(),
                            }
                        ],
                        "data": _data(how, times, values, start, end),
                    }
                )
            value.append(
                {
                    "id": f"/subscriptions/{sub}/providers/Microsoft.Insights/metrics/{name}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": name, "localizedValue": name},
                    "unit": MACHINE_METRICS[name],
                    "timeseries": timeseries,
                }
            )
        return {
            "cost": 0,
            "timespan": f"{_iso(start)}/{_iso(end)}",
            "interval": interval,
            "namespace": VM_TYPE,
            "resourceregion": region,
            "value": value,
        }

    @app.get(
        "/{sub}/resourceGroups/{group}/providers/Microsoft.Insights/components/{application}"
        "/providers/Microsoft.Insights/metrics"
    )
    async def application_metrics(
        sub: str,
        group: str,
        application: str,
        metricnames: str,
        timespan: str | None = None,
        interval: str = "PT5M",
        aggregation: str | None = None,
        metricnamespace: str | None = None,
    ) -> object:
        sim = simulator()
        app_view = sim.application(application)
        if app_view.provider != "azure" or f"rg-{app_view.team}" != group:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Insights/components/"
                f"{application}' under resource group '{group}' was not found.",
            )
        start, end, step = _window(sim, timespan, interval)
        q = sim.application_quality(application, (end - start) / 60, step)
        series = _quality_series(q.timestamps - step, q.p95_latency_ms, q.error_rate)
        names = _names(metricnames)
        resource = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Insights/components/{application}"  # noqa: E501
        return _metrics(resource, app_view.region, names, series, start, end, interval, step)

    # -- Cost Management --------------------------------------------------------------------------------
    @app.post("/{sub}/providers/Microsoft.CostManagement/query")
    async def subscription_costs(sub: str, body: Annotated[dict[str, Any], Body()]) -> object:
        return _cost_query(simulator(), sub, {}, body)

    @app.post("/{sub}/resourceGroups/{group}/providers/Microsoft.CostManagement/query")
    async def group_costs(sub: str, group: str, body: Annotated[dict[str, Any], Body()]) -> object:
        return _cost_query(simulator(), sub, {"team": group.removeprefix("rg-")}, body)

    return app


# -- shapes ---------------------------------------------------------------------------------------------
def vm_json(sub: str, vm: InstanceView, *, instance_view: bool = False) -> dict[str, Any]:
    group = resource_group(vm)
    properties: dict[str, Any] = {
        "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"azure-vm/{vm.id}")),
        "hardwareProfile": {"vmSize": vm.instance_type},
        "priority": "Spot" if vm.pricing_model == "spot" else "Regular",
        "provisioningState": "Deleting" if vm.state is State.SHUTTING_DOWN else "Succeeded",
        "timeCreated": _iso(vm.launch_time),
        "storageProfile": {
            "imageReference": IMAGE,
            "osDisk": {
                "name": f"{vm.id}-osdisk",
                "osType": "Linux",
                "createOption": "FromImage",
                "diskSizeGB": vm.volume_gb,
                "managedDisk": {"storageAccountType": "Premium_LRS"},
            },
        },
        "osProfile": {
            "computerName": vm.name,
            "adminUsername": ADMIN,
            "linuxConfiguration": _linux(vm),
        },
        "networkProfile": {
            "networkInterfaces": [
                {
                    "id": f"/subscriptions/{sub}/resourceGroups/{group}/providers/{NIC_TYPE}/{vm.id}-nic",
                    "properties": {"primary": True},
                }
            ]
        },
    }
    if vm.pricing_model == "spot":
        properties |= {"evictionPolicy": "Deallocate", "billingProfile": {"maxPrice": -1}}
    if instance_view:
        properties["instanceView"] = _instance_view(vm)
    return {
        "id": vm_resource_id(sub, vm),
        "name": vm.id,
        "type": "Microsoft.Compute/virtualMachines",
        "location": vm.region,
        "tags": dict(vm.tags),
        "properties": properties,
    }


def subnet_of(sub: str, vm: InstanceView) -> str:
    """Each application's machines sit in a subnet of their own, in their team's virtual network."""
    team = vm.tags.get("team", "default")
    return (
        f"/subscriptions/{sub}/resourceGroups/rg-{team}/providers/Microsoft.Network/virtualNetworks/"
        f"vnet-{team}/subnets/{vm.application}"
    )


def _linux(vm: InstanceView) -> dict[str, Any]:
    key = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA{vm.tags.get('team', 'default')} {ADMIN}@optiinfra"
    return {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": f"/home/{ADMIN}/.ssh/authorized_keys", "keyData": key}]},
    }


def _check_like(sub: str, original: InstanceView, properties: dict[str, Any]) -> None:
    """A new VM needs an image, an administrator and a network, as Azure requires: the original's."""
    storage = properties.get("storageProfile") or {}
    if storage.get("imageReference") != IMAGE:
        raise ArmError(
            400,
            "InvalidParameter",
            "Required parameter 'storageProfile.imageReference' is missing "
            f"or is not the image of {original.id}.",
            "storageProfile.imageReference",
        )
    if not (properties.get("osProfile") or {}).get("adminUsername"):
        raise ArmError(
            400,
            "InvalidParameter",
            "Required parameter 'osProfile.adminUsername' is missing.",
            "osProfile.adminUsername",
        )
    configurations = (properties.get("networkProfile") or {}).get("networkInterfaceConfigurations") or [{}]
    ip = ((configurations[0].get("properties") or {}).get("ipConfigurations") or [{}])[0]
    subnet = str(((ip.get("properties") or {}).get("subnet") or {}).get("id", ""))
    if subnet.lower() != subnet_of(sub, original).lower():
        raise ArmError(
            400,
            "InvalidParameter",
            f"The VM needs a network interface in the subnet of {original.id} "
            f"({subnet_of(sub, original)}), got '{subnet}'.",
            "networkProfile",
        )


def _instance_view(vm: InstanceView) -> dict[str, Any]:
    power = _POWER.get(vm.state, "stopped")
    provisioning = "deleting" if vm.state is State.SHUTTING_DOWN else "succeeded"
    return {
        "computerName": vm.name,
        "statuses": [
            {
                "code": f"ProvisioningState/{provisioning}",
                "level": "Info",
                "displayStatus": f"Provisioning {provisioning}",
            },
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
        ],
    }


def _page(request: Request, sub: str, vms: list[InstanceView], offset: int, status: bool) -> dict[str, Any]:
    page: dict[str, Any] = {
        "value": [vm_json(sub, v, instance_view=status) for v in vms[offset : offset + PAGE]]
    }
    if offset + PAGE < len(vms):
        query = {k: v for k, v in request.query_params.items() if k != "$skiptoken"}
        query["$skiptoken"] = str(offset + PAGE)
        page["nextLink"] = str(request.url.replace_query_params(**query))
    return page


def _status(sim: CloudSimulator, op: _Operation) -> str:
    if op.error is not None:
        return "Failed"
    if op.kind == "update":
        return "Succeeded"
    vm = sim.get_instance(op.vm)
    if vm.state in TRANSITIONAL:
        return "InProgress"
    done = _DONE[op.kind]
    if vm.state is done:
        return "Succeeded"
    return "Failed" if op.kind != "delete" else "Succeeded"


def _retry_after(sim: CloudSimulator, vm: InstanceView) -> str:
    """Seconds until the VM settles, in the wall time of a running clock (0 for a paused one)."""
    if sim.clock.speed == 0 or vm.state_transition_until is None:
        return "0"
    return str(max(0, math.ceil((vm.state_transition_until - sim.now()) / sim.clock.speed)))


def _window(sim: CloudSimulator, timespan: str | None, interval: str) -> tuple[float, float, int]:
    """A metrics query's (start, end, step); the end is clamped to the simulator's now."""
    step = _INTERVALS.get(interval.upper())
    if step is None:
        raise ArmError(
            400, "BadRequest", f"Interval {interval} is not supported; use {', '.join(_INTERVALS)}."
        )
    now = sim.now()
    if timespan is None:
        return now - 3600, now, step
    try:
        first, _, last = timespan.partition("/")
        start = datetime.fromisoformat(first.replace("Z", "+00:00")).timestamp()
        end = datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ArmError(400, "BadRequest", f"Timespan '{timespan}' is not start/end in ISO 8601.") from None
    end = min(end, now)
    if not start < end:
        raise ArmError(400, "BadRequest", "The timespan must start before it ends (and before now).")
    return max(start, now - 90 * 86400), end, step


MACHINE_METRICS = {
    "Percentage CPU": "Percent",
    "Available Memory Bytes": "Bytes",
    "Network In Total": "Bytes",
    "Network Out Total": "Bytes",
}


def _data(aggregation: str, times: Any, values: Any, start: float, end: float) -> list[dict[str, Any]]:
    """A series' points within the window, the current (partial) period included, as the simulator has it."""
    return [
        {"timeStamp": _iso(float(t)), aggregation: float(v)}
        for t, v in zip(times, values, strict=True)
        if start <= float(t) <= end and not math.isnan(float(v))
    ]


def vm_resource_id(sub: str, vm: InstanceView) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{resource_group(vm)}/providers/{VM_TYPE}/{vm.id}"


def _names(metricnames: str) -> list[str]:
    return [n.strip() for n in metricnames.split(",") if n.strip()]


def _quality_series(starts: Any, latency: Any, errors: Any) -> dict[str, tuple[str, str, Any, Any]]:
    """A service's (or one machine's) custom quality metrics, points stamped with their period's start."""
    return {
        "p95_latency_ms": ("Count", "maximum", starts, latency),
        "error_rate": ("Percent", "average", starts, errors),
    }


def _machine_series(
    sim: CloudSimulator, vm: InstanceView, start: float, step: int
) -> dict[str, tuple[str, str, Any, Any]]:
    """A VM's platform metrics from `start` on: {name: (unit, aggregation, period starts, values)}."""
    hours = min((sim.now() - start) / 3600, 24 * 90)
    m = sim.metrics(vm.id, hours, step)
    available = (1 - m.memory_pct.astype(float) / 100) * vm.memory_gb * 2**30
    to_bytes = 1e6 / 8 * step  # Mbps over a period → bytes
    return {
        "Percentage CPU": ("Percent", "average", m.timestamps, m.cpu_pct),
        "Available Memory Bytes": ("Bytes", "average", m.timestamps, available),
        "Network In Total": ("Bytes", "total", m.timestamps, m.network_in_mbps * to_bytes),
        "Network Out Total": ("Bytes", "total", m.timestamps, m.network_out_mbps * to_bytes),
    }


def _metrics(
    resource: str,
    region: str,
    names: list[str],
    series: dict[str, tuple[str, str, Any, Any]],
    start: float,
    end: float,
    interval: str,
    step: int,
) -> dict[str, Any]:
    """A Metrics - List answer for one resource."""
    value: list[dict[str, Any]] = []
    for name in names:
        if name not in series:
            raise ArmError(
                400,
                "BadRequest",
                f"Failed to find metric configuration for provider and "
                f"resource: metric '{name}' (known: {', '.join(series)}).",
            )
        unit, aggregation, times, values = series[name]
        data = _data(aggregation, times, values, start, end)
        value.append(
            {
                "id": f"{resource}/providers/Microsoft.Insights/metrics/{name}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": name, "localizedValue": name},
                "unit": unit,
                "timeseries": [{"metadatavalues": [], "data": data}],
            }
        )
    return {
        "cost": 0,
        "timespan": f"{_iso(start)}/{_iso(end)}",
        "interval": interval,
        "namespace": "Microsoft.Compute/virtualMachines",
        "resourceregion": region,
        "value": value,
    }


_COST_DIMENSIONS = {  # Cost Management's dimension → the simulator's grouping
    "ResourceLocation": "region",
    "PricingModel": "pricing_model",
    "MeterSubCategory": "instance_type",
    "ServiceName": "service",
}
_PRICING = {"on-demand": "OnDemand", "spot": "Spot", "reserved": "Reservation"}


def _cost_query(
    sim: CloudSimulator, sub: str, scope_tags: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Query - Usage over the simulator's bill for Azure: daily or total, grouped by one dimension or tag (or
    by ResourceId and PricingModel together: which machines a reservation paid for)."""
    if body.get("timeframe") != "Custom" or "timePeriod" not in body:
        raise ArmError(400, "BadRequest", "The simulator answers timeframe 'Custom' with a timePeriod.")
    period = body["timePeriod"]
    try:
        start = datetime.fromisoformat(str(period["from"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(period["to"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise ArmError(400, "BadRequest", "timePeriod needs 'from' and 'to' in ISO 8601.") from None
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    dataset = body.get("dataset") or {}
    daily = dataset.get("granularity") == "Daily"
    grouping = dataset.get("grouping") or []
    if sorted(g.get("name") for g in grouping) == ["PricingModel", "ResourceId"] and not daily:
        return _by_resource_and_pricing(sim, sub, scope_tags, start, end, dataset.get("filter"))
    if len(grouping) > 1:
        raise ArmError(
            400,
            "BadRequest",
            "The simulator groups by one dimension or tag, or by ResourceId and PricingModel together.",
        )
    group_by, column = None, None
    if grouping:
        kind, name = grouping[0].get("type"), grouping[0].get("name")
        if kind == "TagKey":
            group_by, column = f"tag:{name}", name
        elif kind == "Dimension" and name in _COST_DIMENSIONS:
            group_by, column = _COST_DIMENSIONS[name], name
        else:
            raise ArmError(
                400,
                "BadRequest",
                f"Grouping by {kind} '{name}' is not supported; dimensions: "
                f"{', '.join(_COST_DIMENSIONS)}, or a TagKey.",
            )
    region, tags = _cost_filter(dataset.get("filter"))
    tags = {**tags, **scope_tags}
    application = tags.pop("application", None)
    report = sim.costs(
        group_by,
        start.timestamp(),
        min(end.timestamp(), sim.now()),
        provider="azure",
        region=region,
        application=application,
        tags=tags,
        daily=daily,
    )
    columns = [{"name": "Cost", "type": "Number"}]
    if daily:
        columns.append({"name": "UsageDate", "type": "Number"})
    if column is not None:
        columns.append({"name": column, "type": "String"})
    columns.append({"name": "Currency", "type": "String"})
    rows: list[list[Any]] = []
    groups = report.groups if group_by is not None or daily else [None]
    for g in groups:
        key = None if g is None or group_by is None else g.key
        if group_by == "pricing_model" and key is not None:
            key = _PRICING.get(key, key)
        elif group_by == "region" and key is not None:
            key = key.rpartition("/")[2]  # Azure names a location alone ("eastus")
        if daily:
            assert g is not None and g.daily is not None and report.days is not None
            for day, amount in zip(report.days, g.daily, strict=True):
                if amount:
                    rows.append([amount, int(day.replace("-", "")), *([key] if column else []), "USD"])
        else:
            rows.append([g.amount if g is not None else report.total, *([key] if column else []), "USD"])
    return {
        "id": f"query/{uuid.uuid4()}",
        "type": "Microsoft.CostManagement/query",
        "properties": {"nextLink": None, "columns": columns, "rows": rows},
    }


def _by_resource_and_pricing(
    sim: CloudSimulator,
    sub: str,
    scope_tags: dict[str, str],
    start: datetime,
    end: datetime,
    expression: dict[str, Any] | None,
) -> dict[str, Any]:
    """Each VM's cost in the window with the pricing model it was billed under (ids lower-cased, as Cost
    Management returns them)."""
    region, tags = _cost_filter(expression)
    tags = {**tags, **scope_tags}
    application = tags.pop("application", None)
    report = sim.costs(
        "instance",
        start.timestamp(),
        min(end.timestamp(), sim.now()),
        provider="azure",
        region=region,
        application=application,
        tags=tags,
    )
    rows = []
    for group in report.groups:
        try:
            vm = sim.get_instance(group.key)
        except SimulatorError:  # decommissioned before the simulation began: billed, never listed
            continue
        resource = vm_resource_id(sub, vm)
        rows.append([group.amount, resource.lower(), _PRICING[vm.pricing_model], "USD"])
    columns = [
        {"name": "Cost", "type": "Number"},
        {"name": "ResourceId", "type": "String"},
        {"name": "PricingModel", "type": "String"},
        {"name": "Currency", "type": "String"},
    ]
    return {
        "id": f"query/{uuid.uuid4()}",
        "type": "Microsoft.CostManagement/query",
        "properties": {"nextLink": None, "columns": columns, "rows": rows},
    }


def _cost_filter(expression: dict[str, Any] | None) -> tuple[str | None, dict[str, str]]:
    """(region, tags) from a filter of `and`-ed Dimensions (ResourceLocation) and Tags, each `In` one
    value."""
    if not expression:
        return None, {}
    parts = expression.get("and") or [expression]
    region, tags = None, {}
    for part in parts:
        if part.get("or") or part.get("not") or part.get("and"):
            raise ArmError(400, "BadRequest", "The simulator filters on and-ed dimensions and tags only.")
        if "dimensions" in part:
            d = part["dimensions"]
            if d.get("name") != "ResourceLocation" or len(d.get("values") or []) != 1:
                raise ArmError(400, "BadRequest", "Only ResourceLocation In [one region] filters dimensions.")
            region = str(d["values"][0])
        elif "tags" in part:
            t = part["tags"]
            if len(t.get("values") or []) != 1:
                raise ArmError(400, "BadRequest", "A tag filter takes one value.")
            tags[str(t["name"])] = str(t["values"][0])
    return region, tags


def _error(status: int, code: str, message: str, target: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        error["target"] = target
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")
