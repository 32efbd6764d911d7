"""The spot market: a mean-reverting price walk per type and region, and interruptions with notice."""

from __future__ import annotations

import functools
import math

import numpy as np

from mock_cloud.catalog import Catalog, Provider
from mock_cloud.instances import State
from mock_cloud.noise import hash_grid, normal_field
from mock_cloud.stable import stable_int, stable_unit
from mock_cloud.workloads import DAY, F64, HOUR

# Warning before an interruption: EC2's two-minute notice; GCP's and Azure's 30 seconds.
NOTICE_SECONDS: dict[Provider, float] = {"aws": 120.0, "gcp": 30.0, "azure": 30.0}
# What becomes of an interrupted machine by default: EC2 terminates one-time spot instances, GCP stops Spot
# VMs (termination action STOP), Azure deallocates them (eviction policy Deallocate).
INTERRUPTED_STATE: dict[Provider, State] = {
    "aws": State.TERMINATED,
    "gcp": State.STOPPED,
    "azure": State.STOPPED,
}

# Hourly price walk: x_h = φ·x_{h-1} + σ·ε_h, truncated to its last taps (φ^60 < 1 %), so any hour's price
# is computed without replaying history. Stationary spread σ/√(1-φ²) ≈ 9 % around the catalog spot price.
_PERSISTENCE = 0.92
_STEP = 0.035
_TAPS = 60
_WEIGHTS = (_PERSISTENCE ** np.arange(_TAPS)).astype(np.float32)
_SECONDS_PER_MONTH = 30 * DAY


class SpotMarket:
    def __init__(self, catalog: Catalog, seed: int) -> None:
        self.catalog = catalog
        self.seed = seed
        # Listing a fleet prices every spot machine at the same hour: once per type and hour is enough.
        self._hour_price = functools.lru_cache(maxsize=65_536)(self._price_of_hour)

    def prices(self, provider: str, region: str, instance_type: str, times: F64) -> F64:
        """Spot price (USD/h) at each unix time; constant within an hour, as the clouds publish it."""
        base = self.catalog.offering(provider, region, instance_type).spot_hourly
        hours = np.floor(times / HOUR).astype(np.int64)
        lagged = (hours[:, None] - np.arange(_TAPS)[None, :]).ravel()
        key = np.asarray([stable_int("spot", provider, region, instance_type)], np.uint64)
        shocks = normal_field(hash_grid(self.seed, key, lagged), 0).reshape(len(hours), _TAPS)
        walk = _STEP * (shocks @ _WEIGHTS)
        return base * np.clip(1.0 + walk.astype(np.float64), 0.6, 1.6)

    def price(self, provider: str, region: str, instance_type: str, at: float) -> float:
        return self._hour_price(provider, region, instance_type, math.floor(at / HOUR))

    def _price_of_hour(self, provider: str, region: str, instance_type: str, hour: int) -> float:
        return float(self.prices(provider, region, instance_type, np.asarray([hour * HOUR]))[0])

    def interruption_time(
        self, instance_id: str, provider: str, instance_type: str, running_since: float
    ) -> float:
        """When this spot machine will be reclaimed, drawn once per run from its type's monthly rate.

        The draw is exponential (interruptions are memoryless) and keyed by instance and start time, so it
        does not depend on how the clock was advanced.
        """
        band = self.catalog.get(provider, instance_type).interruption_band
        rate_per_second = -math.log(1.0 - band.monthly_rate) / _SECONDS_PER_MONTH
        u = stable_unit(self.seed, "interruption", instance_id, running_since)
        return running_since - math.log(1.0 - u) / rate_per_second
