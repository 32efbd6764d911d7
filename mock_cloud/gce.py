"""Compute Engine's dialect: the simulator's GCP machines as `google-cloud-compute` reads them over REST.

Written from the public REST reference of Compute Engine API v1 for the calls the adapter makes:
`instances.aggregatedList` and `instances.list` (`maxResults`/`pageToken`), `instances.get`, `disks.get`,
`insert`
(with `requestId`, which makes a retried insert one insert), `start`, `stop`, `delete`, `setMachineType`,
and `zoneOperations.get` / `zoneOperations.wait`. Errors are GCE's body `{"error": {"code", "message",
"errors": [{"domain", "reason", "message"}]}}`; throttling is 429 `rateLimitExceeded`; a capacity shortage
fails the operation with `ZONE_RESOURCE_POOL_EXHAUSTED`, as GCE reports it.

How the simulator's fleet looks here: each GCP machine is an instance named by its simulator id in zone
`REGION-b`, labelled with its tags; a stopped instance is `TERMINATED` (GCE's word for stopped) and a
deleted one is gone (404). The simulator cannot boot an image, so `insert` must replace an instance
(label `replaces`) and be made as GCE would need it made: a boot disk from the original's image and a
network interface in its subnetwork (refused otherwise). The new one takes over the original's work, and
the simulator retires the original once the new one runs. With a paused clock, waiting on an unfinished
operation moves the clock to its end.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mock_cloud.errors import IncorrectInstanceState, InsufficientInstanceCapacity, SimulatorError
from mock_cloud.instances import TRANSITIONAL, State
from mock_cloud.simulator import CloudSimulator
from mock_cloud.views import InstanceView

PAGE = 50  # instances a listing page holds before its nextPageToken
# Every simulated instance boots the same image, as a fleet built from one golden image does.
IMAGE = (
    "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20261110"
)
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
_STATUS = {
    State.PENDING: "STAGING",
    State.RUNNING: "RUNNING",
    State.STOPPING: "STOPPING",
    State.STOPPED: "TERMINATED",  # GCE's name for a stopped instance
    State.SHUTTING_DOWN: "STOPPING",
}
_ERRORS = {  # the simulator's refusals as GCE's statuses and reasons
    "InvalidInstanceID.NotFound": (404, "notFound"),
    "ApplicationNotFound": (404, "notFound"),
    "IncorrectInstanceState": (400, "resourceNotReady"),
    "InvalidInstanceType": (400, "invalid"),
    "InvalidParameterValue": (400, "invalid"),
    "IdempotentParameterMismatch": (409, "alreadyExists"),
    "RequestLimitExceeded": (429, "rateLimitExceeded"),
    "InsufficientInstanceCapacity": (503, "ZONE_RESOURCE_POOL_EXHAUSTED"),
    "ServiceUnavailable": (503, "backendError"),
}


class GceError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


@dataclass
class _Operation:
    name: str
    kind: str
    project: str
    zone: str
    instance: str
    started: float
    error: tuple[str, str] | None = None  # (code, message) when it failed


def zone_of(vm: InstanceView) -> str:
    return f"{vm.region}-b"


def create_gce_app(simulator: Callable[[], CloudSimulator]) -> FastAPI:  # noqa: C901 - routes share state
    """The Compute Engine paths under `/compute/v1`; `simulator()` is the simulator being served."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    operations: dict[str, _Operation] = {}
    requests: dict[str, str] = {}  # requestId → the operation it started
    serial = itertools.count(1)

    @app.exception_handler(GceError)
    async def gce_error(_: Request, exc: GceError) -> JSONResponse:
        return _error(exc.status, exc.reason, exc.message)

    @app.exception_handler(SimulatorError)
    async def simulator_error(_: Request, exc: SimulatorError) -> JSONResponse:
        status, reason = _ERRORS.get(exc.code, (400, "invalid"))
        return _error(status, reason, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()
        )
        return _error(400, "invalid", f"Invalid value: {where}")

    def find(project: str, zone: str, name: str) -> InstanceView:
        vm = simulator().get_instance(name)
        if vm.provider != "gcp" or vm.state is State.TERMINATED or zone_of(vm) != zone:
            raise GceError(
                404,
                "notFound",
                f"The resource 'projects/{project}/zones/{zone}/instances/{name}' was not found",
            )
        return vm

    def started(
        request: Request,
        project: str,
        zone: str,
        kind: str,
        vm: InstanceView,
        error: tuple[str, str] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        name = f"operation-{uuid.uuid5(uuid.NAMESPACE_URL, f'gce-operation/{next(serial)}')}"
        op = _Operation(name, kind, project, zone, vm.id, simulator().now(), error)
        operations[name] = op
        if request_id:
            requests[request_id] = name
        return _operation_json(request, op, simulator())

    def change(
        request: Request, project: str, zone: str, kind: str, vm: InstanceView, act: Callable[[], object]
    ) -> dict[str, Any]:
        try:
            act()
        except InsufficientInstanceCapacity as exc:
            return started(request, project, zone, kind, vm, ("ZONE_RESOURCE_POOL_EXHAUSTED", exc.message))
        return started(request, project, zone, kind, vm)

    # -- instances --------------------------------------------------------------------------------------
    @app.get("/projects/{project}/aggregated/instances")
    async def aggregated(
        request: Request,
        project: str,
        maxResults: Annotated[int, Query(ge=1, le=500)] = PAGE,  # noqa: N803 - the API's own names
        pageToken: str | None = None,
    ) -> object:
        vms = _live(simulator())
        start = _token(pageToken)
        page = vms[start : start + maxResults]
        items: dict[str, Any] = {}
        for vm in page:
            items.setdefault(f"zones/{zone_of(vm)}", {"instances": []})["instances"].append(
                instance_json(request, project, vm)
            )
        out: dict[str, Any] = {
            "kind": "compute#instanceAggregatedList",
            "id": f"projects/{project}/aggregated/instances",
            "items": items,
        }
        if start + maxResults < len(vms):
            out["nextPageToken"] = str(start + maxResults)
        return out

    @app.get("/projects/{project}/zones/{zone}/instances")
    async def list_zone(
        request: Request,
        project: str,
        zone: str,
        maxResults: Annotated[int, Query(ge=1, le=500)] = PAGE,  # noqa: N803 - the API's own names
        pageToken: str | None = None,
    ) -> object:
        vms = [v for v in _live(simulator()) if zone_of(v) == zone]
        start = _token(pageToken)
        out: dict[str, Any] = {
            "kind": "compute#instanceList",
            "items": [instance_json(request, project, v) for v in vms[start : start + maxResults]],
        }
        if start + maxResults < len(vms):
            out["nextPageToken"] = str(start + maxResults)
        return out

    path = "/projects/{project}/zones/{zone}/instances/{name}"

    @app.get(path)
    async def get(request: Request, project: str, zone: str, name: str) -> object:
        return instance_json(request, project, find(project, zone, name))

    @app.post(path + "/start")
    async def start(request: Request, project: str, zone: str, name: str) -> object:
        vm = find(project, zone, name)
        return change(request, project, zone, "start", vm, lambda: simulator().start(vm.id))

    @app.post(path + "/stop")
    async def stop(request: Request, project: str, zone: str, name: str) -> object:
        vm = find(project, zone, name)
        return change(request, project, zone, "stop", vm, lambda: simulator().stop(vm.id))

    @app.delete(path)
    async def delete(request: Request, project: str, zone: str, name: str) -> object:
        vm = find(project, zone, name)
        return change(request, project, zone, "delete", vm, lambda: simulator().terminate(vm.id))

    @app.post(path + "/setMachineType")
    async def set_machine_type(
        request: Request, project: str, zone: str, name: str, body: Annotated[dict[str, Any], Body()]
    ) -> object:
        vm = find(project, zone, name)
        size = str(body.get("machineType", "")).rpartition("/")[2]
        if vm.state is not State.STOPPED:
            raise GceError(
                400,
                "resourceNotReady",
                f"The resource 'projects/{project}/zones/{zone}/instances/{name}' is not ready: "
                "an instance must be stopped (TERMINATED) to change its machine type",
            )
        try:
            simulator().resize(vm.id, size)
        except InsufficientInstanceCapacity as exc:
            return started(
                request, project, zone, "setMachineType", vm, ("ZONE_RESOURCE_POOL_EXHAUSTED", exc.message)
            )
        except SimulatorError as exc:
            if exc.code == "InvalidInstanceType":
                raise GceError(
                    400,
                    "invalid",
                    f"Invalid value for field 'resource.machineType': "
                    f"'{body.get('machineType')}'. {exc.message}",
                ) from exc
            raise
        return started(request, project, zone, "setMachineType", vm)

    @app.post("/projects/{project}/zones/{zone}/instances")
    async def insert(
        request: Request,
        project: str,
        zone: str,
        body: Annotated[dict[str, Any], Body()],
        requestId: str | None = None,
    ) -> object:
        sim = simulator()
        if requestId and requestId in requests:  # the same request again: the same operation
            return _operation_json(request, operations[requests[requestId]], sim)
        name = str(body.get("name", ""))
        labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
        replaced = labels.get("replaces")
        if not replaced:
            raise GceError(
                400,
                "invalid",
                "The simulator inserts only replacements of existing instances: "
                "label the new instance 'replaces' with the name of the one it replaces.",
            )
        original = find(project, zone, replaced)
        try:
            sim.get_instance(name)
            raise GceError(
                409,
                "alreadyExists",
                f"The resource 'projects/{project}/zones/{zone}/instances/{name}' already exists",
            )
        except SimulatorError:
            pass
        size = str(body.get("machineType", original.instance_type)).rpartition("/")[2]
        if size != original.instance_type:
            raise GceError(
                400, "invalid", "A replacement keeps the machine type of the instance it replaces."
            )
        _check_like(request, project, original, body)
        spot = (body.get("scheduling") or {}).get("provisioningModel") == "SPOT"
        try:
            sim.migrate(original.id, "spot" if spot else "on-demand", replacement_id=name, tags=labels)
        except InsufficientInstanceCapacity as exc:
            return started(
                request,
                project,
                zone,
                "insert",
                original,
                ("ZONE_RESOURCE_POOL_EXHAUSTED", exc.message),
                requestId,
            )
        except IncorrectInstanceState as exc:
            raise GceError(400, "resourceNotReady", exc.message) from exc
        return started(request, project, zone, "insert", sim.get_instance(name), None, requestId)

    @app.get("/projects/{project}/zones/{zone}/disks/{name}")
    async def disk(request: Request, project: str, zone: str, name: str) -> object:
        """A boot disk: what a copy of its instance needs to know, the image it was made from."""
        vm = find(project, zone, name)
        base = _base(request)
        return {
            "kind": "compute#disk",
            "id": str(numeric_id(f"disk/{vm.id}")),
            "name": vm.id,
            "sizeGb": str(vm.volume_gb),
            "sourceImage": IMAGE,
            "status": "READY",
            "type": f"{base}/projects/{project}/zones/{zone}/diskTypes/pd-balanced",
            "zone": f"{base}/projects/{project}/zones/{zone}",
            "users": [f"{base}/projects/{project}/zones/{zone}/instances/{vm.id}"],
            "selfLink": f"{base}/projects/{project}/zones/{zone}/disks/{vm.id}",
        }

    # -- zone operations --------------------------------------------------------------------------------
    def operation(project: str, zone: str, name: str, wait: bool) -> _Operation:
        op = operations.get(name)
        if op is None or op.zone != zone:
            raise GceError(
                404,
                "notFound",
                f"The resource 'projects/{project}/zones/{zone}/operations/{name}' was not found",
            )
        sim = simulator()
        if wait and _status(sim, op) == "RUNNING" and sim.clock.speed == 0:
            sim.wait_until_stable(op.instance)  # a paused clock: move it to when the operation finishes
        return op

    @app.get("/projects/{project}/zones/{zone}/operations/{name}")
    async def get_operation(request: Request, project: str, zone: str, name: str) -> object:
        return _operation_json(request, operation(project, zone, name, wait=False), simulator())

    @app.post("/projects/{project}/zones/{zone}/operations/{name}/wait")
    async def wait_operation(request: Request, project: str, zone: str, name: str) -> object:
        return _operation_json(request, operation(project, zone, name, wait=True), simulator())

    return app


def instance_json(request: Request, project: str, vm: InstanceView) -> dict[str, Any]:
    base = _base(request)
    zone = zone_of(vm)
    spot = vm.pricing_model == "spot"
    return {
        "kind": "compute#instance",
        "id": str(numeric_id(vm.id)),
        "name": vm.id,
        "zone": f"{base}/projects/{project}/zones/{zone}",
        "machineType": f"{base}/projects/{project}/zones/{zone}/machineTypes/{vm.instance_type}",
        "status": _STATUS.get(vm.state, "TERMINATED"),
        "labels": dict(vm.tags),
        "scheduling": {
            "provisioningModel": "SPOT" if spot else "STANDARD",
            **({"instanceTerminationAction": "STOP"} if spot else {}),
        },
        "creationTimestamp": _rfc3339(vm.launch_time),
        "selfLink": f"{base}/projects/{project}/zones/{zone}/instances/{vm.id}",
        "disks": [
            {
                "boot": True,
                "autoDelete": True,
                "deviceName": "boot",
                "diskSizeGb": str(vm.volume_gb),
                "source": f"{base}/projects/{project}/zones/{zone}/disks/{vm.id}",
            }
        ],
        "networkInterfaces": [{"name": "nic0", **_network(base, project, vm)}],
        "serviceAccounts": [{"email": _service_account(project, vm), "scopes": [CLOUD_PLATFORM]}],
    }


def _network(base: str, project: str, vm: InstanceView) -> dict[str, str]:
    """Each application's machines sit in a subnetwork of their own."""
    return {
        "network": f"{base}/projects/{project}/global/networks/default",
        "subnetwork": f"{base}/projects/{project}/regions/{vm.region}/subnetworks/{vm.application}",
    }


def _service_account(project: str, vm: InstanceView) -> str:
    return f"{vm.tags.get('team', 'default')}@{project}.iam.gserviceaccount.com"


def _check_like(request: Request, project: str, original: InstanceView, body: dict[str, Any]) -> None:
    """A new instance needs a boot disk from an image and a network, as GCE requires: the original's."""
    disks = body.get("disks") or [{}]
    image = str((disks[0].get("initializeParams") or {}).get("sourceImage", ""))
    if not disks[0].get("boot") or image.rpartition("/projects/")[2] != IMAGE.rpartition("/projects/")[2]:
        raise GceError(
            400,
            "invalid",
            "Invalid value for field 'resource.disks[0]': a boot disk from the "
            f"image of {original.id} ({IMAGE}) is required, got '{image}'.",
        )
    network = (body.get("networkInterfaces") or [{}])[0]
    wanted = _network(_base(request), project, original)["subnetwork"]
    if str(network.get("subnetwork", "")).rpartition("/projects/")[2] != wanted.rpartition("/projects/")[2]:
        raise GceError(
            400,
            "invalid",
            "Invalid value for field 'resource.networkInterfaces[0].subnetwork': "
            f"the subnetwork of {original.id} ({wanted}) is required.",
        )


def _live(sim: CloudSimulator) -> list[InstanceView]:
    return [v for v in sim.list_instances(provider="gcp") if v.state is not State.TERMINATED]


def _status(sim: CloudSimulator, op: _Operation) -> str:
    if op.error is not None or op.kind == "setMachineType":
        return "DONE"
    return "RUNNING" if sim.get_instance(op.instance).state in TRANSITIONAL else "DONE"


def _operation_json(request: Request, op: _Operation, sim: CloudSimulator) -> dict[str, Any]:
    base = _base(request)
    status = _status(sim, op)
    out: dict[str, Any] = {
        "kind": "compute#operation",
        "id": str(numeric_id(op.name)),
        "name": op.name,
        "zone": f"{base}/projects/{op.project}/zones/{op.zone}",
        "operationType": op.kind,
        "targetLink": f"{base}/projects/{op.project}/zones/{op.zone}/instances/{op.instance}",
        "status": status,
        "progress": 100 if status == "DONE" else 50,
        "insertTime": _rfc3339(op.started),
        "startTime": _rfc3339(op.started),
        "selfLink": f"{base}/projects/{op.project}/zones/{op.zone}/operations/{op.name}",
    }
    if status == "DONE":
        out["endTime"] = _rfc3339(sim.now())
    if op.error is not None:
        out["error"] = {"errors": [{"code": op.error[0], "message": op.error[1]}]}
        out["httpErrorStatusCode"] = 503
        out["httpErrorMessage"] = "SERVICE UNAVAILABLE"
    return out


def _token(page_token: str | None) -> int:
    if not page_token:
        return 0
    if not page_token.isdigit():
        raise GceError(400, "invalid", f"Invalid value for field 'pageToken': '{page_token}'")
    return int(page_token)


def numeric_id(name: str) -> int:
    """GCE's numeric id for a name: a simulator id's own digits, else a stable 63-bit number."""
    digits = name.removeprefix("gcp-")
    return int(digits) if digits.isdigit() else uuid.uuid5(uuid.NAMESPACE_URL, name).int >> 65


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/compute/v1"


def _error(status: int, reason: str, message: str) -> JSONResponse:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }
    return JSONResponse(body, status_code=status, headers={"Retry-After": "1"} if status == 429 else None)


def _rfc3339(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds")
