"""Injected faults: errors, throttling, capacity shortages, latency, degraded application quality, and cost
spikes on the bill."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mock_cloud.catalog import check_provider
from mock_cloud.errors import (
    InsufficientInstanceCapacity,
    InvalidParameterValue,
    RequestLimitExceeded,
    ServiceUnavailable,
)
from mock_cloud.instances import Instance

OPERATIONS = (
    "list_instances", "get_instance", "start", "stop", "terminate", "resize", "migrate", "metrics", "quality",
    "costs",
)  # fmt: skip
ALL_OPERATIONS = "*"
# Only calls that place a machine can run out of capacity.
CAPACITY_OPERATIONS = frozenset({"start", "resize", "migrate"})


@dataclass(frozen=True)
class FaultRule:
    """Per-call probabilities of each failure, simulated seconds added to each call, and answers held back.

    A slow answer (`slow_answer_rate`) is a call that succeeds — its change is made — whose answer a server
    holds for `slow_answer_seconds` of wall time: a client with a shorter timeout sees a timeout for a call
    that happened, the case that tempts a client to record "not changed". Only a server has a wire to hold
    an answer on; called in-process, the simulator answers at once.
    """

    error_rate: float = 0.0
    throttle_rate: float = 0.0
    capacity_error_rate: float = 0.0
    latency_seconds: float = 0.0
    slow_answer_rate: float = 0.0
    slow_answer_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "throttle_rate", "capacity_error_rate", "slow_answer_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidParameterValue(f"{name} must be between 0 and 1, got {value}")
        if self.error_rate + self.throttle_rate + self.capacity_error_rate > 1.0:
            raise InvalidParameterValue("error_rate + throttle_rate + capacity_error_rate must not exceed 1")
        for name in ("latency_seconds", "slow_answer_seconds"):
            if getattr(self, name) < 0:
                raise InvalidParameterValue(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class QualityDegradation:
    """From `armed_at` on, applications with a machine changed (resized or replaced) after that time answer
    `latency_factor` times slower and with `error_rate_increase` more errors: a change gone wrong."""

    latency_factor: float
    error_rate_increase: float
    armed_at: float

    def __post_init__(self) -> None:
        if self.latency_factor < 1.0:
            raise InvalidParameterValue("latency_factor must be >= 1")
        if not 0.0 <= self.error_rate_increase <= 1.0:
            raise InvalidParameterValue("error_rate_increase must be between 0 and 1")


@dataclass(frozen=True)
class CostSpike:
    """From `start` to `end` (unix seconds, either may lie in the past), the matching machines' compute is
    billed `factor` times over: a runaway job, a price change, a scale-out nobody meant. Scoped as a cost
    query is (provider, region, application, tags, or named instances); every filter given must match.

    The bill is all it changes — metrics and quality stay as they were — so an anomaly detector has a
    known answer: which days, which dimension values, which machines.
    """

    start: float
    end: float
    factor: float
    provider: str | None = None
    region: str | None = None
    application: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    instance_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidParameterValue("a cost spike must end after it starts")
        if not 0.0 < self.factor <= 100.0:
            raise InvalidParameterValue(f"a cost spike's factor must be in (0, 100], got {self.factor}")
        if self.provider is not None:
            check_provider(self.provider)

    def matches(self, inst: Instance) -> bool:
        return (
            (self.provider is None or inst.provider == self.provider)
            and (self.region is None or inst.region == self.region)
            and (self.application is None or inst.application == self.application)
            and all(inst.tags.get(k) == v for k, v in self.tags)
            and (not self.instance_ids or inst.id in self.instance_ids)
        )


def cost_spike(
    start: float,
    end: float,
    factor: float,
    *,
    provider: str | None = None,
    region: str | None = None,
    application: str | None = None,
    tags: Mapping[str, str] | None = None,
    instance_ids: Sequence[str] = (),
) -> CostSpike:
    """A `CostSpike` from plain arguments (a mapping of tags, any sequence of ids)."""
    return CostSpike(
        start, end, factor, provider, region, application, tuple(sorted((tags or {}).items())),
        tuple(instance_ids),
    )  # fmt: skip


class FaultInjector:
    """Decides, call by call, whether a call fails; deterministic for a seed and a sequence of calls."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 0xFA17])
        self.rules: dict[str, FaultRule] = {}
        self.degradation: QualityDegradation | None = None
        self.cost_spikes: tuple[CostSpike, ...] = ()

    def configure(self, rules: dict[str, FaultRule]) -> None:
        unknown = sorted(set(rules) - {*OPERATIONS, ALL_OPERATIONS})
        if unknown:
            raise InvalidParameterValue(
                f"Unknown operation(s) {', '.join(unknown)}; expected '*' or one of: {', '.join(OPERATIONS)}"
            )
        self.rules = dict(rules)

    def clear(self) -> None:
        self.rules = {}
        self.degradation = None
        self.cost_spikes = ()

    def check(self, operation: str) -> tuple[float, float]:
        """Raise the injected failure for this call, if any; otherwise return its added latency (simulated
        seconds) and how long a server holds its answer (wall seconds)."""
        rule = self.rules.get(operation) or self.rules.get(ALL_OPERATIONS)
        if rule is None:
            return 0.0, 0.0
        u = float(self._rng.random())
        if u < rule.throttle_rate:
            raise RequestLimitExceeded(f"Request limit exceeded for {operation}; retry with backoff")
        u -= rule.throttle_rate
        if operation in CAPACITY_OPERATIONS:
            if u < rule.capacity_error_rate:
                raise InsufficientInstanceCapacity(
                    f"Insufficient capacity to complete {operation}; try again later"
                )
            u -= rule.capacity_error_rate
        if u < rule.error_rate:
            raise ServiceUnavailable(f"The service is unavailable for {operation}; try again")
        # Drawn only when asked for, so the failures a seed gives without slow answers stay the same.
        slow = bool(rule.slow_answer_rate) and float(self._rng.random()) < rule.slow_answer_rate
        return rule.latency_seconds, rule.slow_answer_seconds if slow else 0.0
