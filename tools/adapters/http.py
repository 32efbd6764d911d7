"""The simulator in another process, over its REST API (httpx)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np

from tools.adapters.resizing import resize_by_restart
from tools.errors import ProviderUnavailableError, from_cloud_code
from tools.models import (
    F32,
    STABLE_STATES,
    Address,
    ApplicationQuality,
    Bucket,
    CostBreakdown,
    Instance,
    InstanceFilter,
    InstancePage,
    InstanceTypeOffer,
    MetricSeries,
    Migration,
    PricingModel,
    ResourceFilter,
    Snapshot,
    TargetQuality,
    UtilisationSummary,
    Volume,
    VolumeDeletion,
)
from tools.provider import billable

PAGE = 10_000


class SimulatorHttpProvider:
    """A CloudProvider over `optiinfra cloud serve`.

    Waiting on a state: on a manual clock (speed 0) the adapter advances the simulator's clock past the
    transition, as the in-process adapter does; on a running clock it polls every `poll_seconds`.
    """

    name = "simulator-http"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._poll_seconds = poll_seconds
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    # -- transport --------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(
                f"the simulator did not answer in time ({exc})", provider=self.name
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach the simulator: {exc}", provider=self.name) from exc
        if response.is_success:
            return response.json()
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = (
                ("Unavailable" if response.status_code >= 500 else "InvalidParameterValue"),
                response.text,
            )
        raise from_cloud_code(code, message or f"HTTP {response.status_code}", self.name)

    def _all(self, path: str, field: str, params: dict[str, Any]) -> list[Any]:
        """Every item of a listing (`field` of each page), a page of PAGE at a time."""
        found: list[Any] = []
        while True:
            page = self._request("GET", path, params={**params, "limit": PAGE, "offset": len(found)})
            found += page[field]
            if len(found) >= page["total"] or not page[field]:
                return found

    def _post(self, path: str, key: str, body: dict[str, Any] | None = None) -> Any:
        """A change, under its idempotency key."""
        return self._request("POST", path, json=body, headers={"Idempotency-Key": key})

    # -- reads ------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(_unix(self._request("GET", "/clock")["now"]), UTC)

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        listed = self._all("/instances", "instances", _listing(filters or InstanceFilter()))
        return [Instance.model_validate(i) for i in listed]

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        params = _listing(filters or InstanceFilter()) | {"offset": offset, "limit": limit}
        page = self._request("GET", "/instances", params=params)
        return InstancePage(
            total=page["total"], instances=[Instance.model_validate(i) for i in page["instances"]]
        )

    def get_instance(self, instance_id: str) -> Instance:
        return Instance.model_validate(self._request("GET", f"/instances/{instance_id}"))

    def instance_types(self, provider: str, region: str | None = None) -> list[InstanceTypeOffer]:
        params = {"provider": provider} | ({"region": region} if region else {})
        return [InstanceTypeOffer.model_validate(o) for o in self._request("GET", "/catalog", params=params)]

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        m = self._request(
            "GET", f"/instances/{instance_id}/metrics", params={"hours": hours, "period": period}
        )
        network = np.asarray(m["network_in_mbps"], np.float32) + np.asarray(m["network_out_mbps"], np.float32)
        return MetricSeries(
            instance_id=instance_id,
            period=m["period"],
            timestamps=np.asarray([_unix(t) for t in m["timestamps"]], np.float64),
            cpu_pct=np.asarray(m["cpu_pct"], np.float32),
            memory_pct=np.asarray(m["memory_pct"], np.float32),
            network_mbps=network,
        )

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        s = self._request("GET", "/metrics/summary", params={"hours": hours, "percentile": list(percentiles)})

        def column(values: list[Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
            return np.asarray([math.nan if v is None else v for v in values], np.float32)

        return UtilisationSummary(
            hours=s["hours"],
            percentiles=tuple(s["percentiles"]),
            instance_ids=s["instance_ids"],
            cpu_pct=np.vstack([column(row) for row in s["cpu_pct"]]),
            memory_pct=np.vstack([column(row) for row in s["memory_pct"]]),
            cpu_mean_pct=column(s["cpu_mean_pct"]),
            network_mean_mbps=column(s["network_mean_mbps"]),
            observed_hours=np.asarray(s["observed_hours"], np.int32),
        )

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        q = self._request("GET", f"/applications/{application}/quality", params={"minutes": minutes})
        return ApplicationQuality.model_validate(q)

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        params: dict[str, Any] = {"minutes": minutes, "step": step_seconds}
        if until is not None:
            params["end"] = until.isoformat()
        q = self._request("GET", f"/applications/{application}/targets", params=params)

        def rows(name: str) -> F32:
            values = [[math.nan if v is None else v for v in t[name]] for t in q["targets"]]
            return np.asarray(values, np.float32).reshape(len(q["targets"]), len(q["timestamps"]))

        return TargetQuality(
            application=q["application"],
            step_seconds=q["step"],
            timestamps=np.asarray([_unix(t) for t in q["timestamps"]], np.float64),
            instance_ids=[t["instance_id"] for t in q["targets"]],
            p95_latency_ms=rows("p95_latency_ms"),
            error_rate=rows("error_rate"),
        )

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        f = billable(filters, self.name)
        params: dict[str, Any] = {"days": days} | ({"group_by": group_by} if group_by else {})
        params |= {"daily": "true"} if daily else {}
        params |= {k: v for k, v in (("provider", f.provider), ("region", f.region),
                                     ("application", f.application)) if v is not None}  # fmt: skip
        params |= {"tag": [f"{k}={v}" for k, v in f.tags.items()]} if f.tags else {}
        params |= {"until": until.isoformat()} if until is not None else {}
        return CostBreakdown.model_validate(self._request("GET", "/costs", params=params))

    # -- changes ----------------------------------------------------------------------------------------
    def _change(self, instance_id: str, action: str, key: str, body: dict[str, Any] | None = None) -> Any:
        return self._post(f"/instances/{instance_id}/{action}", key, body)

    def start(self, instance_id: str, idempotency_key: str) -> Instance:
        return Instance.model_validate(self._change(instance_id, "start", idempotency_key))

    def stop(self, instance_id: str, idempotency_key: str) -> Instance:
        return Instance.model_validate(self._change(instance_id, "stop", idempotency_key))

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        return Instance.model_validate(self._change(instance_id, "terminate", idempotency_key))

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        def change_type(key: str) -> None:
            self._change(instance_id, "resize", key, {"instance_type": instance_type})

        return resize_by_restart(self, instance_id, instance_type, idempotency_key, change_type)

    def writes_tags(self) -> bool:
        return True

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        body = {"tags": dict(tags), "remove": list(remove)}
        return Instance.model_validate(self._change(instance_id, "tags", idempotency_key, body))

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration:
        body = {"pricing_model": pricing_model}
        return Migration.model_validate(self._change(instance_id, "migrate", idempotency_key, body))

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> Instance:
        deadline = time.monotonic() + timeout
        while True:
            inst = self.get_instance(instance_id)
            if inst.state in STABLE_STATES or inst.state_transition_until is None:
                return inst
            if time.monotonic() > deadline:
                raise ProviderUnavailableError(
                    f"{instance_id} did not settle within {timeout} s", provider=self.name
                )
            clock = self._request("GET", "/clock")
            if clock["speed"] == 0:
                remaining = inst.state_transition_until.timestamp() - _unix(clock["now"])
                if remaining > timeout:
                    raise ProviderUnavailableError(
                        f"{instance_id} would not settle within {timeout} s", provider=self.name
                    )
                # Timestamps cross the wire at microsecond precision: step a millisecond past the transition.
                self._request("POST", "/clock/advance", json={"seconds": max(remaining, 0.0) + 0.001})
            else:
                self._sleep(self._poll_seconds)

    # -- volumes, snapshots, addresses ------------------------------------------------------------------
    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]:
        return [Volume.model_validate(v) for v in self._all("/volumes", "volumes", _resources(filters))]

    def get_volume(self, volume_id: str) -> Volume:
        return Volume.model_validate(self._request("GET", f"/volumes/{volume_id}"))

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:
        body = {"volume_type": volume_type, "iops": iops, "throughput_mbps": throughput_mbps}
        return Volume.model_validate(self._post(f"/volumes/{volume_id}/modify", idempotency_key, body))

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:
        body = {"final_snapshot": final_snapshot}
        return VolumeDeletion.model_validate(
            self._post(f"/volumes/{volume_id}/delete", idempotency_key, body)
        )

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:
        answer = self._post(f"/snapshots/{snapshot_id}/restore-volume", idempotency_key, {"tags": tags or {}})
        return Volume.model_validate(answer)

    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        params = _resources(filters) | ({"recycle_bin": "true"} if recycle_bin else {})
        return [Snapshot.model_validate(s) for s in self._all("/snapshots", "snapshots", params)]

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        return Snapshot.model_validate(self._request("GET", f"/snapshots/{snapshot_id}"))

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        return Snapshot.model_validate(self._post(f"/snapshots/{snapshot_id}/delete", idempotency_key))

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        return Snapshot.model_validate(self._post(f"/snapshots/{snapshot_id}/recover", idempotency_key))

    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]:
        return [Address.model_validate(a) for a in self._all("/addresses", "addresses", _resources(filters))]

    def get_address(self, allocation_id: str) -> Address:
        return Address.model_validate(self._request("GET", f"/addresses/{allocation_id}"))

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address:
        return Address.model_validate(self._post(f"/addresses/{allocation_id}/release", idempotency_key))

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        return Address.model_validate(self._post(f"/addresses/{allocation_id}/recover", idempotency_key))

    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]:
        return [Bucket.model_validate(b) for b in self._all("/buckets", "buckets", _resources(filters))]

    def get_bucket(self, name: str) -> Bucket:
        return Bucket.model_validate(self._request("GET", f"/buckets/{name}"))

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        body = {"storage_class": storage_class}
        return Bucket.model_validate(self._post(f"/buckets/{name}/class", idempotency_key, body))

    def sleep_until(self, moment: datetime) -> datetime:
        while True:
            clock = self._request("GET", "/clock")
            remaining = moment.timestamp() - _unix(clock["now"])
            if remaining <= 0:
                return datetime.fromtimestamp(_unix(clock["now"]), UTC)
            if clock["speed"] == 0:
                self._request("POST", "/clock/advance", json={"seconds": remaining})
            else:
                self._sleep(min(remaining / clock["speed"], self._poll_seconds))


def _unix(timestamp: str) -> float:
    """Unix seconds from the API's ISO 8601 UTC timestamps."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _resources(filters: ResourceFilter | None) -> dict[str, Any]:
    """A resource filter as the simulator's GET /volumes, /snapshots and /addresses take it."""
    f = filters or ResourceFilter()
    params: dict[str, Any] = {k: v for k, v in (("provider", f.provider), ("region", f.region),
                                               ("state", f.state)) if v is not None}  # fmt: skip
    return params | {"tag": [f"{k}={v}" for k, v in f.tag_filter().items()]}


def _listing(f: InstanceFilter) -> dict[str, Any]:
    """An instance filter as the simulator's GET /instances takes it."""
    params: dict[str, Any] = {k: v for k, v in f.model_dump(exclude={"tags"}).items() if v is not None}
    return params | {"tag": [f"{k}={v}" for k, v in f.tags.items()]}
