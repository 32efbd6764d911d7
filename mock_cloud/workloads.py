"""Workload demand: what each replica of an application asks of its machine, hour by hour.

Demand is absolute (CPU cores, GB of memory), so moving a workload to a smaller type raises its utilisation.
Values are columnar (one numpy row per workload slot) and deterministic from (seed, slot, time bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from mock_cloud.noise import hash_grid, normal_field, unit_field
from mock_cloud.offices import AFTER_HOURS_LOAD, in_office

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

HOUR = 3600.0
DAY = 86400.0
_TWO_PI = np.float32(2 * np.pi)


class Profile(IntEnum):
    STEADY = 0
    DIURNAL = 1
    BURSTY = 2
    IDLE = 3
    OVERLOADED = 4
    GPU = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class WorkloadParams:
    """One workload slot's parameters, in absolute units."""

    profile: Profile
    cpu_cores: float  # mean CPU demand
    amplitude: float  # diurnal swing as a fraction of the mean
    noise: float  # hour-to-hour variation as a fraction of the mean
    burst_probability: float  # chance per hour of a burst
    burst_cores: float  # extra demand during a burst
    memory_gb: float
    gpu_utilisation: float  # fraction of the GPUs kept busy (GPU workloads)
    network_mbps: float
    peak_hour: float  # local hour of the daily peak, in UTC hours
    office_zone: str = ""  # the time zone of the office whose hours it follows (mock_cloud/offices.py)


@dataclass
class Demand:
    """Demand of several slots at several times: arrays of shape (slots, times)."""

    cpu_cores: F32
    memory_gb: F32
    gpu_utilisation: F32
    network_mbps: F32


@dataclass
class WorkloadTable:
    """Columnar storage of workload slots; a slot outlives the instances that serve it."""

    seed: int
    profile: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    cpu_cores: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    amplitude: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    noise: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    burst_probability: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    burst_cores: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    memory_gb: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    gpu_utilisation: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    network_mbps: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    peak_hour: F32 = field(default_factory=lambda: np.zeros(0, np.float32))
    # Per slot, the key of the traffic it serves: the replicas of one application sit behind one load
    # balancer, so they share its hour-to-hour swings and bursts (each in proportion to its own size).
    traffic: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    # Per slot, the index in `zones` of the office whose hours its load follows; -1 for round-the-clock.
    office: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    zones: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.profile)

    def extend(self, params: list[WorkloadParams], scale: list[float], traffic: list[int]) -> None:
        """Append slots; `scale` multiplies each slot's CPU and memory demand; slots with the same
        `traffic` key share their noise and bursts (replicas of one service)."""
        factor = np.asarray(scale, dtype=np.float32)
        self.traffic = np.concatenate([self.traffic, np.asarray(traffic, np.int64)])
        for p in params:
            if p.office_zone and p.office_zone not in self.zones:
                self.zones.append(p.office_zone)
        office = [self.zones.index(p.office_zone) if p.office_zone else -1 for p in params]
        self.office = np.concatenate([self.office, np.asarray(office, np.int64)])
        self.profile = np.concatenate([self.profile, np.asarray([p.profile for p in params], np.int8)])
        for name in (
            "cpu_cores", "amplitude", "noise", "burst_probability", "burst_cores", "memory_gb",
            "gpu_utilisation", "network_mbps", "peak_hour",
        ):  # fmt: skip
            column = np.asarray([getattr(p, name) for p in params], np.float32)
            if name in ("cpu_cores", "memory_gb"):
                column *= factor
            setattr(self, name, np.concatenate([getattr(self, name), column]))

    def demand(self, slots: I64, times: F64) -> Demand:
        """Demand of `slots` at unix `times`; noise is fixed per hour bucket."""
        cpu, memory = self.cpu_memory(slots, times)
        load = cpu / np.maximum(self.cpu_cores[slots][:, None], np.float32(1e-3))
        gpu = np.clip(
            self.gpu_utilisation[slots][:, None] * (np.float32(0.85) + np.float32(0.15) * load), 0, 1
        )
        network = self.network_mbps[slots][:, None] * load
        return Demand(cpu, memory, gpu.astype(np.float32), network.astype(np.float32))

    def cpu_memory(self, slots: I64, times: F64) -> tuple[F32, F32]:
        """CPU cores and GB of memory demanded by `slots` at `times`: shape (slots, times) each."""
        hours = np.floor(times / HOUR).astype(np.int64)
        hashes = hash_grid(self.seed, self.traffic[slots].astype(np.uint64), hours)
        cores = self.cpu_cores[slots][:, None]
        amplitude = self.amplitude[slots][:, None]
        # cos(t - peak) = cos t·cos peak + sin t·sin peak: two products instead of a cosine per cell.
        angle = ((times / HOUR) % 24).astype(np.float32) * (_TWO_PI / np.float32(24))
        peak = self.peak_hour[slots] * (_TWO_PI / np.float32(24))
        daily = (
            np.cos(peak)[:, None] * np.cos(angle)[None, :] + np.sin(peak)[:, None] * np.sin(angle)[None, :]
        )
        # 1970-01-01 was a Thursday: +3 makes Monday day 0 of the week.
        weekend = (((np.floor(times / DAY).astype(np.int64) + 3) % 7) >= 5).astype(np.float32)[None, :]
        swing = amplitude * daily
        # Weekends are quieter in proportion to the daily swing: office-hours load dips, flat load does not.
        shape = (np.float32(1) + swing) * (np.float32(1) - np.float32(0.4) * amplitude * weekend)
        jitter = normal_field(hashes, 0)
        cpu = cores * shape * (np.float32(1) + self.noise[slots][:, None] * jitter)
        burst_probability = self.burst_probability[slots]
        if burst_probability.any():
            burst = unit_field(hashes, 2) < burst_probability[:, None]
            cpu += burst * self.burst_cores[slots][:, None]
        np.maximum(cpu, np.float32(0), out=cpu)
        office = self.office[slots]
        for zone in np.unique(office[office >= 0]).tolist():
            # After hours nobody is at work: the machine runs its daemons only.
            away = ~in_office(self.zones[zone], times)
            cpu[np.ix_(office == zone, away)] *= np.float32(AFTER_HOURS_LOAD)
        memory = self.memory_gb[slots][:, None] * (
            np.float32(1) + np.float32(0.1) * swing + np.float32(0.03) * jitter
        )
        return cpu.astype(np.float32, copy=False), memory.astype(np.float32, copy=False)
