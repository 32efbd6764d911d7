"""Which cloud a command or the service talks to: a simulator server at a URL, or one in this process."""

from __future__ import annotations

from mock_cloud import CloudSimulator
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import resilient_simulator
from tools.provider import CloudProvider
from tools.resilience import ResilientProvider


def remote_cloud(url: str) -> ResilientProvider:
    """A simulator server (or any cloud speaking its API), retried on throttling and outages."""
    return ResilientProvider(SimulatorHttpProvider(url))


def cloud_for(url: str | None, seed: int, size: int) -> CloudProvider:
    """The cloud at `url`, or a seeded simulator in this process when there is none."""
    return remote_cloud(url) if url else resilient_simulator(CloudSimulator(seed, size))
