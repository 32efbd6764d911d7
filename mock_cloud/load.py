"""From demand to utilisation: which machine served which workload, with what capacity, at each time.

An application's replicas sit behind a load balancer: when a replica is down, the others take its share.
A machine's utilisation is its workload's demand divided by the capacity of the type it had at that time,
so a resize, a stop or a spot interruption changes the numbers from that moment on, and not before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mock_cloud.catalog import Catalog
from mock_cloud.fleet import Application
from mock_cloud.instances import Instance
from mock_cloud.workloads import F32, F64, WorkloadTable

Mask = npt.NDArray[np.bool_]


@dataclass
class Utilisation:
    """One machine's utilisation (percent) at the asked times; NaN where it was not running."""

    cpu_pct: F32
    memory_pct: F32
    gpu_pct: F32 | None
    network_mbps: F32

    @property
    def running(self) -> Mask:
        return ~np.isnan(self.cpu_pct)


@dataclass
class ApplicationLoad:
    members: list[Instance]
    utilisation: list[Utilisation]
    serving_share: F32  # fraction of replicas' slots served at each time (0 = application down)


def history_at(inst: Instance, catalog: Catalog, times: F64) -> tuple[Mask, F32, F32]:
    """Running mask, vCPUs and memory of `inst` at each time, from its history segments."""
    starts = np.fromiter((s.start for s in inst.history), np.float64, len(inst.history))
    index = np.searchsorted(starts, times, side="right") - 1
    seg_running = np.array([s.running for s in inst.history])
    seg_vcpus = np.array(
        [catalog.get(inst.provider, s.instance_type).vcpus for s in inst.history], np.float32
    )
    seg_memory = np.array(
        [catalog.get(inst.provider, s.instance_type).memory_gb for s in inst.history], np.float32
    )
    valid = index >= 0
    safe = np.where(valid, index, 0)
    return valid & seg_running[safe], seg_vcpus[safe], seg_memory[safe]


class LoadModel:
    def __init__(self, catalog: Catalog, workloads: WorkloadTable) -> None:
        self.catalog = catalog
        self.workloads = workloads

    def application(self, app: Application, members: list[Instance], times: F64) -> ApplicationLoad:
        """Utilisation of every machine that ever served `app`, at `times`."""
        slots = np.asarray(app.slots, np.int64)
        demand = self.workloads.demand(slots, times)
        slot_row = {slot: row for row, slot in enumerate(app.slots)}
        states = [history_at(m, self.catalog, times) for m in members]
        # Capacity serving each slot at each time (two machines share a slot during a spot hand-over).
        slot_vcpus = np.zeros((len(slots), len(times)), np.float32)
        slot_memory = np.zeros_like(slot_vcpus)
        for member, (running, vcpus, memory) in zip(members, states, strict=True):
            row = slot_row[member.workload]
            slot_vcpus[row] += np.where(running, vcpus, 0)
            slot_memory[row] += np.where(running, memory, 0)
        served = (slot_vcpus > 0).sum(axis=0).astype(np.float32)
        share = np.where(served > 0, len(slots) / np.maximum(served, 1), 0).astype(np.float32)
        utilisation = []
        for member, (running, vcpus, memory) in zip(members, states, strict=True):
            row = slot_row[member.workload]
            weight = np.where(running, vcpus / np.maximum(slot_vcpus[row], 1e-6), 0)  # its part of the slot
            cpu = demand.cpu_cores[row] * share * weight / vcpus
            # Memory follows load only in part (caches, heaps and connections grow with traffic).
            mem = demand.memory_gb[row] * (1 + 0.2 * (share - 1)) * weight / memory
            gpus = self.catalog.get(member.provider, member.instance_type).gpu_count
            utilisation.append(
                Utilisation(
                    cpu_pct=np.where(running, np.minimum(cpu, 1) * 100, np.nan).astype(np.float32),
                    memory_pct=np.where(running, np.minimum(mem, 1) * 100, np.nan).astype(np.float32),
                    gpu_pct=np.where(running, demand.gpu_utilisation[row] * 100, np.nan).astype(np.float32)
                    if gpus
                    else None,
                    network_mbps=np.where(running, demand.network_mbps[row] * share * weight, np.nan).astype(
                        np.float32
                    ),
                )
            )
        return ApplicationLoad(members, utilisation, served / len(slots))

    def steady_fleet(
        self, slots: npt.NDArray[np.int64], vcpus: F32, memory_gb: F32, times: F64
    ) -> tuple[F32, F32, F32]:
        """CPU and memory utilisation (percent) and network (Mbps) of machines that ran their workload alone
        the whole time. The fast path for fleets: no history to consult, so it is one vectorised pass.
        """
        cpu, memory = self.workloads.cpu_memory(slots, times)
        load = cpu / np.maximum(self.workloads.cpu_cores[slots][:, None], np.float32(1e-3))
        network = (self.workloads.network_mbps[slots][:, None] * load).astype(np.float32, copy=False)
        cpu = np.minimum(cpu / vcpus[:, None], 1) * 100
        memory = np.minimum(memory / memory_gb[:, None], 1) * 100
        return cpu.astype(np.float32, copy=False), memory.astype(np.float32, copy=False), network
