"""A fleet at a glance: counts and the current run rate, as a FinOps dashboard's first tile shows them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mock_cloud.costs import HOURS_PER_MONTH, STORAGE_GB_MONTH
from mock_cloud.instances import State
from mock_cloud.simulator import CloudSimulator


@dataclass(frozen=True)
class FleetSummary:
    seed: int
    size: int
    applications: int
    by_provider: dict[str, int]
    by_state: dict[str, int]
    by_pricing_model: dict[str, int]
    hourly_cost: float  # compute of running machines + storage of all live ones, now
    hourly_cost_by_provider: dict[str, float]

    @property
    def monthly_cost(self) -> float:
        return self.hourly_cost * HOURS_PER_MONTH

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "size": self.size,
            "applications": self.applications,
            "by_provider": self.by_provider,
            "by_state": self.by_state,
            "by_pricing_model": self.by_pricing_model,
            "hourly_cost": round(self.hourly_cost, 4),
            "monthly_cost": round(self.monthly_cost, 2),
            "hourly_cost_by_provider": {k: round(v, 4) for k, v in self.hourly_cost_by_provider.items()},
        }


def summarize(sim: CloudSimulator) -> FleetSummary:
    instances = sim.list_instances()
    by_provider_cost: dict[str, float] = {}
    for inst in instances:
        if inst.state is State.TERMINATED:
            continue
        storage = inst.volume_gb * STORAGE_GB_MONTH[inst.provider] / HOURS_PER_MONTH
        compute = inst.hourly_price if inst.state is State.RUNNING else 0.0
        by_provider_cost[inst.provider] = by_provider_cost.get(inst.provider, 0.0) + compute + storage
    return FleetSummary(
        seed=sim.seed,
        size=sim.size,
        applications=len(sim.applications()),
        by_provider=dict(sorted(Counter(i.provider for i in instances).items())),
        by_state=dict(sorted(Counter(i.state.value for i in instances).items())),
        by_pricing_model=dict(sorted(Counter(i.pricing_model for i in instances).items())),
        hourly_cost=sum(by_provider_cost.values()),
        hourly_cost_by_provider=dict(sorted(by_provider_cost.items())),
    )
