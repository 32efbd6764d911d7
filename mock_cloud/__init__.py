"""A deterministic multi-cloud simulator (AWS, GCP, Azure) for OptiInfra.

Usable alone: it imports nothing else of the project. Start with :class:`CloudSimulator`.
"""

from mock_cloud.catalog import Catalog, InstanceType, Offering, load_catalog
from mock_cloud.clock import SimClock
from mock_cloud.errors import SimulatorError
from mock_cloud.simulator import CloudSimulator

__all__ = [
    "Catalog",
    "CloudSimulator",
    "InstanceType",
    "Offering",
    "SimClock",
    "SimulatorError",
    "load_catalog",
]
