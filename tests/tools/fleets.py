"""Hand-made fleets whose right answers are known, priced from the real catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from mock_cloud.catalog import load_catalog
from tools.analysis.snapshot import PERCENTILES, FleetSnapshot
from tools.models import Instance, InstanceTypeOffer, UtilisationSummary

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class Machine:
    id: str
    instance_type: str
    cpu: float  # percent, at every percentile unless `peak` is given
    memory: float = 40.0
    peak: float | None = None  # P99.5 CPU
    provider: str = "aws"
    region: str = "us-east-1"
    pricing_model: str = "on-demand"
    age_days: float = 120.0
    observed_hours: int = 336
    network_mbps: float = 50.0
    tags: dict[str, str] = field(default_factory=dict)


def offers(provider: str, region: str) -> list[InstanceTypeOffer]:
    return [InstanceTypeOffer.model_validate(o.to_dict()) for o in load_catalog().offerings(provider, region)]


def snapshot(*machines: Machine) -> FleetSnapshot:
    catalog = load_catalog()
    instances = []
    for m in machines:
        offer = catalog.offering(m.provider, m.region, m.instance_type)
        price = {
            "on-demand": offer.on_demand_hourly,
            "spot": offer.spot_hourly,
            "reserved": offer.reserved_hourly,
        }
        instances.append(
            Instance.model_validate(
                {
                    "id": m.id, "name": m.id, "provider": m.provider, "region": m.region,
                    "instance_type": m.instance_type, "pricing_model": m.pricing_model, "state": "running",
                    "launch_time": NOW - timedelta(days=m.age_days), "vcpus": offer.instance_type.vcpus,
                    "memory_gb": offer.instance_type.memory_gb, "gpu_count": offer.instance_type.gpu_count,
                    "hourly_price": price[m.pricing_model],
                    "tags": {"environment": "development", "stateful": "false", "replicas": "3", **m.tags},
                }
            )
        )  # fmt: skip
    ids = [m.id for m in machines]
    cpu = np.asarray(
        [[m.cpu if q < 99 else (m.peak or m.cpu) for m in machines] for q in PERCENTILES], np.float32
    )
    memory = np.asarray([[m.memory for m in machines] for _ in PERCENTILES], np.float32)
    network = np.asarray([m.network_mbps for m in machines], np.float32)
    observed = np.asarray([m.observed_hours for m in machines], np.int32)
    long = UtilisationSummary(336, PERCENTILES, ids, cpu, memory, cpu[1], network, observed)
    short = UtilisationSummary(
        168, (95.0,), ids, cpu[1:2], memory[1:2], cpu[1], network, np.minimum(observed, 168)
    )
    regions = {(m.provider, m.region) for m in machines}
    return FleetSnapshot(NOW, instances, {r: offers(*r) for r in regions}, long, short)
