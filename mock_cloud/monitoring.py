"""Cloud Monitoring's dialect: the simulator's GCP machines' metrics as `google-cloud-monitoring` reads them.

`google-cloud-monitoring` speaks gRPC only, so this is a gRPC service (`google.monitoring.v3.MetricService`,
method `ListTimeSeries`, from the public v3 reference), served beside the HTTP API on its own port. It
answers a filter of `AND`-ed equalities on `metric.type`, `resource.labels.instance_id` and
`metric.labels.application`, over `interval`, aligned to `aggregation.alignment_period`:

- `compute.googleapis.com/instance/cpu/utilization` (a fraction), `…/network/received_bytes_count` and
  `…/sent_bytes_count` (bytes a period), `…/uptime` (seconds running a period);
- `agent.googleapis.com/memory/percent_used` (the Ops Agent's; `state=used`);
- `custom.googleapis.com/optiinfra/p95_latency_ms` and `…/error_rate`: per instance (resource
  `gce_instance`) when the filter names one, else for the application (resource `global`).

Series of an instance carry GCE's numeric `instance_id` on the resource and its name as the metric label
`instance_name`, as Compute Engine's own metrics do.

A point's interval is its alignment period; the simulator's throttling and outages are gRPC's
RESOURCE_EXHAUSTED and UNAVAILABLE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import numpy as np
from google.cloud.monitoring_v3 import ListTimeSeriesRequest, ListTimeSeriesResponse, TimeSeries

from mock_cloud.errors import SimulatorError
from mock_cloud.gce import numeric_id
from mock_cloud.instances import State
from mock_cloud.simulator import CloudSimulator

SERVICE = "google.monitoring.v3.MetricService"
CUSTOM = "custom.googleapis.com/optiinfra/"
_EQUALITY = re.compile(r'([\w.]+)\s*=\s*"([^"]*)"')
_STATUS = {
    "RequestLimitExceeded": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "ServiceUnavailable": grpc.StatusCode.UNAVAILABLE,
    "InvalidInstanceID.NotFound": grpc.StatusCode.NOT_FOUND,
    "ApplicationNotFound": grpc.StatusCode.NOT_FOUND,
}


def monitoring_handler(simulator: Callable[[], CloudSimulator]) -> grpc.GenericRpcHandler:
    async def list_time_series(
        request: ListTimeSeriesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ListTimeSeriesResponse:
        try:
            return ListTimeSeriesResponse(time_series=_series(simulator(), request))
        except SimulatorError as exc:
            await context.abort(_STATUS.get(exc.code, grpc.StatusCode.INVALID_ARGUMENT), exc.message)
            raise  # abort raises; this line keeps type checkers sure the function returns

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                list_time_series,
                request_deserializer=ListTimeSeriesRequest.deserialize,
                response_serializer=ListTimeSeriesResponse.serialize,
            )
        },
    )


async def serve_monitoring(simulator: Callable[[], CloudSimulator], port: int) -> grpc.aio.Server:
    """Start the service on 127.0.0.1:`port` (plaintext: a local stand-in) in the running event loop."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((monitoring_handler(simulator),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


def _series(sim: CloudSimulator, request: ListTimeSeriesRequest) -> list[TimeSeries]:
    wanted = dict(_EQUALITY.findall(request.filter))
    metric = wanted.get("metric.type", "")
    step = int(request.aggregation.alignment_period.total_seconds()) if request.aggregation else 0
    start = request.interval.start_time.timestamp() if request.interval.start_time else sim.now() - 3600
    end = min(request.interval.end_time.timestamp() if request.interval.end_time else sim.now(), sim.now())
    step = step or 60
    if not start < end:
        return []
    everyone = sim.list_instances(provider="gcp")
    by_number = {str(numeric_id(v.id)): v.id for v in everyone}
    number = wanted.get("resource.labels.instance_id")
    instance = by_number.get(number, "") if number is not None else None
    if metric.startswith(CUSTOM):
        return _quality(sim, metric, wanted.get("metric.labels.application"), instance, start, end, step)
    machines = [v for v in everyone if instance is None or v.id == instance]
    out = []
    for vm in machines:
        if vm.state is State.TERMINATED and instance is None:
            continue
        if metric.endswith("/instance/uptime"):
            times, seconds = sim.uptime(vm.id, start, end, step)
            out.append(_one(metric, "DELTA", vm.id, vm.region, times, seconds, step, {}))
            continue
        hours = min((sim.now() - start) / 3600, 24 * 90)
        period = step if step in (60, 300, 900, 3600) else 3600
        m = sim.metrics(vm.id, hours, period)
        keep = (m.timestamps >= start) & (m.timestamps <= end)  # the current, partial period too
        per_period = 1e6 / 8 * period
        values_of = {
            "compute.googleapis.com/instance/cpu/utilization": ("GAUGE", m.cpu_pct / 100.0, {}),
            "agent.googleapis.com/memory/percent_used": ("GAUGE", m.memory_pct, {"state": "used"}),
            "compute.googleapis.com/instance/network/received_bytes_count": (
                "DELTA",
                m.network_in_mbps * per_period,
                {},
            ),
            "compute.googleapis.com/instance/network/sent_bytes_count": (
                "DELTA",
                m.network_out_mbps * per_period,
                {},
            ),
        }
        if metric not in values_of:
            raise SimulatorError(f"metric.type '{metric}' is not one the simulator publishes")
        kind, values, labels = values_of[metric]
        out.append(_one(metric, kind, vm.id, vm.region, m.timestamps[keep], values[keep], period, labels))
    return out


def _quality(
    sim: CloudSimulator,
    metric: str,
    application: str | None,
    instance: str | None,
    start: float,
    end: float,
    step: int,
) -> list[TimeSeries]:
    name = metric.removeprefix(CUSTOM)
    if name not in ("p95_latency_ms", "error_rate"):
        raise SimulatorError(f"metric.type '{metric}' is not one the simulator publishes")
    if application is None:
        raise SimulatorError("quality metrics are filtered by metric.labels.application")
    minutes = (end - start) / 60
    if instance is None:
        q = sim.application_quality(application, minutes, step)
        values = q.p95_latency_ms if name == "p95_latency_ms" else q.error_rate
        return [
            _one(metric, "GAUGE", None, None, q.timestamps - step, values, step, {"application": application})
        ]
    targets = sim.target_quality(application, minutes, step, end)
    if instance not in targets.instance_ids:
        return []
    row = targets.instance_ids.index(instance)
    values = (targets.p95_latency_ms if name == "p95_latency_ms" else targets.error_rate)[row]
    region = sim.get_instance(instance).region
    return [
        _one(
            metric,
            "GAUGE",
            instance,
            region,
            targets.timestamps - step,
            values,
            step,
            {"application": application},
        )
    ]


def _one(
    metric: str,
    kind: str,
    instance: str | None,
    region: str | None,
    starts: Sequence[float] | Any,
    values: Sequence[float] | Any,
    step: int,
    labels: dict[str, str],
) -> TimeSeries:
    """One series, newest point first (as Monitoring returns them), NaNs (not serving) left out."""
    resource = (
        {"type": "gce_instance", "labels": {"instance_id": str(numeric_id(instance)), "zone": f"{region}-b"}}
        if instance is not None
        else {"type": "global", "labels": {}}
    )
    if instance is not None:
        labels = {**labels, "instance_name": instance}
    points = [
        {
            "interval": {"start_time": {"seconds": int(t)}, "end_time": {"seconds": int(t) + step}},
            "value": {"double_value": float(v)},
        }
        for t, v in zip(np.asarray(starts), np.asarray(values), strict=True)
        if not np.isnan(v)
    ][::-1]
    return TimeSeries(
        {
            "metric": {"type": metric, "labels": labels},
            "resource": resource,
            "metric_kind": kind,
            "value_type": "DOUBLE",
            "points": points,
        }
    )
