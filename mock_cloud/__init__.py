"""A deterministic multi-cloud simulator (AWS, GCP, Azure) for OptiInfra.

Usable alone: it imports nothing else of the project. Start with :class:`CloudSimulator`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_cloud.catalog import Catalog, InstanceType, Offering, load_catalog
    from mock_cloud.clock import SimClock
    from mock_cloud.errors import SimulatorError
    from mock_cloud.simulator import CloudSimulator

# Loaded on first use (PEP 562): `mock_cloud.clouds` and the other light modules come without numpy and
# libcloud's price tables, which the simulator itself needs.
_HOMES = {
    "Catalog": "mock_cloud.catalog", "InstanceType": "mock_cloud.catalog", "Offering": "mock_cloud.catalog",
    "load_catalog": "mock_cloud.catalog", "SimClock": "mock_cloud.clock",
    "SimulatorError": "mock_cloud.errors", "CloudSimulator": "mock_cloud.simulator",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'mock_cloud' has no attribute '{name}'")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = [
    "Catalog",
    "CloudSimulator",
    "InstanceType",
    "Offering",
    "SimClock",
    "SimulatorError",
    "load_catalog",
]
