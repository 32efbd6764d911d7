"""Injected faults: errors, throttling, capacity shortages, latency, and degraded application quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mock_cloud.errors import (
    InsufficientInstanceCapacity,
    InvalidParameterValue,
    RequestLimitExceeded,
    ServiceUnavailable,
)

OPERATIONS = (
    "list_instances", "get_instance", "start", "stop", "terminate", "resize", "migrate", "metrics", "quality",
    "costs",
)  # fmt: skip
ALL_OPERATIONS = "*"
# Only calls that place a machine can run out of capacity.
CAPACITY_OPERATIONS = frozenset({"start", "resize", "migrate"})


@dataclass(frozen=True)
class FaultRule:
    """Per-call probabilities of each failure, and simulated seconds added to each call."""

    error_rate: float = 0.0
    throttle_rate: float = 0.0
    capacity_error_rate: float = 0.0
    latency_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "throttle_rate", "capacity_error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidParameterValue(f"{name} must be between 0 and 1, got {value}")
        if self.error_rate + self.throttle_rate + self.capacity_error_rate > 1.0:
            raise InvalidParameterValue("error_rate + throttle_rate + capacity_error_rate must not exceed 1")
        if self.latency_seconds < 0:
            raise InvalidParameterValue(f"latency_seconds must be >= 0, got {self.latency_seconds}")


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


class FaultInjector:
    """Decides, call by call, whether a call fails; deterministic for a seed and a sequence of calls."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 0xFA17])
        self.rules: dict[str, FaultRule] = {}
        self.degradation: QualityDegradation | None = None

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

    def check(self, operation: str) -> float:
        """Raise the injected failure for this call, if any; otherwise return its added latency."""
        rule = self.rules.get(operation) or self.rules.get(ALL_OPERATIONS)
        if rule is None:
            return 0.0
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
        return rule.latency_seconds
