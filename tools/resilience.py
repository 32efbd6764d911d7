"""Retries with backoff and jitter, and a circuit breaker, around any CloudProvider.

Retried: errors the cloud marks retryable (throttling, capacity, outages). Never retried: refusals that
would fail again (not found, wrong state, bad input). Mutations are safe to retry because every one carries
an idempotency key. The breaker counts outages only; throttling means the cloud is up, just busy.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from tools.errors import ProviderError, ProviderUnavailableError
from tools.models import (
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
from tools.provider import CloudProvider

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter: wait U(0, min(cap, base·2^attempt)) seconds
    (the "full jitter" of AWS's Architecture Blog, "Exponential Backoff And Jitter")."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 20.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_seconds, self.base_seconds * 2**attempt))


class CircuitBreaker:
    """Opens after `threshold` outages in a row; after `reset_seconds` lets one call through to test."""

    def __init__(
        self, threshold: int = 5, reset_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ):
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.reset_seconds else "open"

    def check(self, provider: str) -> None:
        if self.state == "open":
            raise ProviderUnavailableError(
                f"circuit open after {self._failures} consecutive outages; "
                f"trying again after {self.reset_seconds:g} s",
                provider=provider,
            )

    def succeeded(self) -> None:
        self._failures, self._opened_at = 0, None

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold or self.state == "half-open":
            self._opened_at = self._clock()


class ResilientProvider:
    """A CloudProvider that retries and breaks the circuit around another one."""

    def __init__(
        self,
        inner: CloudProvider,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self._sleep = sleep
        self._rng = rng or random.Random(0)
        self.retries = 0  # how many calls were repeated, for metrics

    def _call(self, call: Callable[[], T]) -> T:
        for attempt in range(self.policy.attempts):
            self.breaker.check(self.name)
            try:
                result = call()
            except ProviderError as exc:
                if isinstance(exc, ProviderUnavailableError):
                    self.breaker.failed()
                if not exc.retryable or attempt == self.policy.attempts - 1:
                    raise
                self.retries += 1
                self._sleep(self.policy.delay(attempt, self._rng))
            else:
                self.breaker.succeeded()
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def now(self) -> datetime:
        return self._call(self.inner.now)

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        return self._call(lambda: self.inner.page_instances(filters, offset, limit))

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        return self._call(lambda: self.inner.list_instances(filters))

    def get_instance(self, instance_id: str) -> Instance:
        return self._call(lambda: self.inner.get_instance(instance_id))

    def instance_types(self, provider: str, region: str | None = None) -> list[InstanceTypeOffer]:
        return self._call(lambda: self.inner.instance_types(provider, region))

    def metrics(self, instance_id: str, hours: float = 24, period: int = 3600) -> MetricSeries:
        return self._call(lambda: self.inner.metrics(instance_id, hours, period))

    def utilisation(self, hours: float = 336, percentiles: Sequence[float] = (95.0,)) -> UtilisationSummary:
        return self._call(lambda: self.inner.utilisation(hours, percentiles))

    def application_quality(self, application: str, minutes: float = 60) -> ApplicationQuality:
        return self._call(lambda: self.inner.application_quality(application, minutes))

    def target_quality(
        self, application: str, minutes: float = 60, step_seconds: int = 60, until: datetime | None = None
    ) -> TargetQuality:
        return self._call(lambda: self.inner.target_quality(application, minutes, step_seconds, until))

    def costs(
        self,
        group_by: str | None = None,
        days: float = 30,
        filters: InstanceFilter | None = None,
        until: datetime | None = None,
        daily: bool = False,
    ) -> CostBreakdown:
        return self._call(lambda: self.inner.costs(group_by, days, filters, until, daily))

    def start(self, instance_id: str, idempotency_key: str) -> Instance:
        return self._call(lambda: self.inner.start(instance_id, idempotency_key))

    def stop(self, instance_id: str, idempotency_key: str) -> Instance:
        return self._call(lambda: self.inner.stop(instance_id, idempotency_key))

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        return self._call(lambda: self.inner.terminate(instance_id, idempotency_key))

    def resize(self, instance_id: str, instance_type: str, idempotency_key: str) -> Instance:
        return self._call(lambda: self.inner.resize(instance_id, instance_type, idempotency_key))

    def writes_tags(self) -> bool:
        return self.inner.writes_tags()

    def set_tags(
        self, instance_id: str, tags: Mapping[str, str], idempotency_key: str, remove: Sequence[str] = ()
    ) -> Instance:
        return self._call(lambda: self.inner.set_tags(instance_id, tags, idempotency_key, remove))

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration:
        return self._call(lambda: self.inner.migrate(instance_id, pricing_model, idempotency_key))

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> Instance:
        return self._call(lambda: self.inner.wait_until_stable(instance_id, timeout))

    def sleep_until(self, moment: datetime) -> datetime:
        return self._call(lambda: self.inner.sleep_until(moment))

    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]:
        return self._call(lambda: self.inner.list_volumes(filters))

    def get_volume(self, volume_id: str) -> Volume:
        return self._call(lambda: self.inner.get_volume(volume_id))

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:
        return self._call(
            lambda: self.inner.modify_volume(volume_id, volume_type, idempotency_key, iops, throughput_mbps)
        )

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:
        return self._call(lambda: self.inner.delete_volume(volume_id, idempotency_key, final_snapshot))

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:
        return self._call(lambda: self.inner.restore_volume(snapshot_id, idempotency_key, tags))

    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        return self._call(lambda: self.inner.list_snapshots(filters, recycle_bin))

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        return self._call(lambda: self.inner.get_snapshot(snapshot_id))

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        return self._call(lambda: self.inner.delete_snapshot(snapshot_id, idempotency_key))

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        return self._call(lambda: self.inner.recover_snapshot(snapshot_id, idempotency_key))

    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]:
        return self._call(lambda: self.inner.list_addresses(filters))

    def get_address(self, allocation_id: str) -> Address:
        return self._call(lambda: self.inner.get_address(allocation_id))

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address:
        return self._call(lambda: self.inner.release_address(allocation_id, idempotency_key))

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        return self._call(lambda: self.inner.recover_address(allocation_id, idempotency_key, public_ip))

    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]:
        return self._call(lambda: self.inner.list_buckets(filters))

    def get_bucket(self, name: str) -> Bucket:
        return self._call(lambda: self.inner.get_bucket(name))

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        return self._call(lambda: self.inner.set_bucket_class(name, storage_class, idempotency_key))
